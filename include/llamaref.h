/* llamaref.h - the public API of llamaref: includes every module header.
 * Each header in include/llamaref/ documents one concept and is the only
 * thing its users need. */
#ifndef LLAMAREF_H
#define LLAMAREF_H

#include "llamaref/common.h"
#include "llamaref/config.h"
#include "llamaref/json.h"
#include "llamaref/model.h"
#include "llamaref/rng.h"
#include "llamaref/safetensors.h"

#endif
