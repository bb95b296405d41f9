/* world_internal.h - what world_write.c needs from the generator in
 * world.c, not part of the public API (lrw_ names are not exported). */
#ifndef LLAMAREF_WORLD_INTERNAL_H
#define LLAMAREF_WORLD_INTERNAL_H

#include "llamaref/world.h"

/* The QA split's fact ids in qa.jsonl's order (stream 6); malloc'ed. */
uint32_t *lrw_qa_order(const lr_world *w, size_t *n, lr_error *err);
/* Refusal i's question and answer text, appended to q and a. */
void lrw_refusal_text(const lr_world *w, size_t i, lr_buf *q, lr_buf *a);

#endif
