#!/usr/bin/python3
"""metrics_ref.py - independent Python implementation of the text metrics of
docs/metrics.md (knowledge pipeline and multiple-choice scores); writes the
golden vectors vectors/metrics/metrics_vectors.json for
tests/papers/knowledge/test_knowledge.c and tests/eval/test_mcscore.c.

Independent of the C code: lower-casing comes from Python's own Unicode
database (str.lower() per character; U+0130 -> 'i' for the simple mapping),
invalid UTF-8 handling from Python's errors="replace" codec, white space from
str.split(), MC2 from the lm-evaluation-harness formula (exp of the raw
log-likelihoods).  Deterministic: fixed seeds.

    /usr/bin/python3 vectors/gen/metrics_ref.py
"""
import json
import math
import os
import random
import re
import unicodedata

# ---- normalisation --------------------------------------------------------


def lower_cp(c):
    low = c.lower()
    if len(low) == 1:
        return low
    # only U+0130 has a multi-character lowercase; its simple mapping is 'i'
    assert c == '\u0130', hex(ord(c))
    return 'i'


def normalize(text):
    if isinstance(text, bytes):
        text = text.decode('utf-8', errors='replace')
    low = ''.join(lower_cp(c) for c in text)
    low = low.replace('\u2019', "'").replace('\u02bc', "'")
    return ' '.join(low.split())


def alias_match(answer, aliases):
    a = normalize(answer)
    return any(n != '' and n in a for n in (normalize(x) for x in aliases))


# ---- SliCK and shift -------------------------------------------------------

CATS = ['HighlyKnown', 'MaybeKnown', 'WeaklyKnown', 'Unknown']


def slick(greedy, n_sample_correct):
    if all(greedy):
        return 'HighlyKnown'
    if any(greedy):
        return 'MaybeKnown'
    return 'WeaklyKnown' if n_sample_correct > 0 else 'Unknown'


def shift(before, after):
    n = len(before)
    count = [[0] * 4 for _ in range(4)]
    for b, a in zip(before, after):
        count[CATS.index(b)][CATS.index(a)] += 1
    HK, MK, UK = 0, 1, 3
    pos = count[UK][HK] + count[UK][MK] + count[MK][HK]
    neg = count[HK][UK] + count[HK][MK] + count[MK][UK]
    return {'count': count, 'positive': pos / n, 'negative': neg / n}


# ---- refusals and diversity ------------------------------------------------

REFUSAL_PATTERNS = [
    "couldn't find any information", "could not find any information",
    "couldn't find information", "could not find information",
    "can't find any information", "cannot find any information",
    "unable to find any information", "unable to find information",
    "no information available", "no information about",
    "i don't have any information", "i do not have any information",
    "i don't have information", "i do not have information",
    "i don't have enough information", "i do not have enough information",
    "not enough information",
    "cannot verify", "can't verify", "couldn't verify", "could not verify",
    "unable to verify", "cannot confirm", "can't confirm",
    "i don't know", "i do not know", "i'm not sure", "i am not sure",
    "i'm not aware", "i am not aware", "i'm not familiar", "i am not familiar",
    "i can't help", "i cannot help", "i can't assist", "i cannot assist",
    "i can't provide", "i cannot provide", "i can't fulfill", "i cannot fulfill",
    "i can't create", "i cannot create", "i can't rewrite", "i cannot rewrite",
    "i'm unable to", "i am unable to", "i won't be able to", "as an ai",
]


def refusal_index(text):
    t = normalize(text)
    for i, p in enumerate(REFUSAL_PATTERNS):
        if p in t:
            return i
    return -1


def answer_key(text):
    m = re.search('answer:', text, re.ASCII | re.IGNORECASE)
    s = text[m.end():] if m else text
    s = s.split('\n', 1)[0]
    k = normalize(s).rstrip('.').rstrip(' ')
    return k


def diversity(answers):
    keys = []
    refusals = empty = 0
    for a in answers:
        if refusal_index(a) >= 0:
            refusals += 1
            continue
        k = answer_key(a)
        if not k:
            empty += 1
            continue
        keys.append(k)
    counts = {}
    for k in keys:
        counts[k] = counts.get(k, 0) + 1
    # count descending, then key ascending in UTF-8 byte order
    order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].encode('utf-8')))
    u = len(order)
    mean = len(keys) / u if u else 0.0
    std = math.sqrt(sum((c - mean) ** 2 for _, c in order) / u) if u else 0.0
    over = sum(1 for _, c in order if c > mean + 3 * std)
    return {'n_total': len(answers), 'n_refusals': refusals, 'n_empty': empty,
            'n_answers': len(keys), 'n_unique': u, 'mean_freq': mean,
            'std_freq': std, 'n_over': over,
            'counts': [[k, c] for k, c in order]}


# ---- multiple choice (lm-evaluation-harness) --------------------------------


def mc1(lls, gold=0):
    best = max(range(len(lls)), key=lambda i: (lls[i], -i))  # first max
    return 1.0 if best == gold else 0.0


def mc2(lls, labels):
    split = labels.index(0)
    p_true = [math.exp(x) for x in lls[:split]]
    p_false = [math.exp(x) for x in lls[split:]]
    return sum(p / (sum(p_true) + sum(p_false)) for p in p_true)


# ---- vectors -----------------------------------------------------------------


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    rng = random.Random(20250601)
    out = {'generator': 'vectors/gen/metrics_ref.py',
           'python_unicode_version': unicodedata.unidata_version}

    out['lowercase_pairs'] = [[cp, ord(lower_cp(chr(cp)))]
                              for cp in range(0x110000)
                              if not 0xD800 <= cp <= 0xDFFF and lower_cp(chr(cp)) != chr(cp)]

    norm_in = [
        'Paris', '  New   York\tCity \n', 'ΟΔΥΣΣΕΥΣ', 'İstanbul', 'ǅemal', 'Ǆ',
        'МОСКВА Кремль', 'ÀÉÎÕÜ ÆØÅ Ÿ', 'Straße STRASSE ẞ', 'KELVIN \u212a',
        'Couldn\u2019t find', 'don\u02bct', 'a\u00a0b\u2003c\u3000d\u2028e',
        'x\x1cy\x1fz', '', '   ', 'ⅫⅠ', 'Ⓐⓑ', '𐐀𐐨 deseret', 'ＡＢＣ fullwidth',
        'Ꭰ cherokee', 'ĲSSEL', '\u0130I\u0131i', 'Ωmega Ω',
    ]
    norm_cases = [{'in': s, 'out': normalize(s)} for s in norm_in]
    bad_bytes = [b'ab\xffcd', b'caf\xc3', b'\xe2\x82 x', b'\xed\xa0\x80Z',
                 b'\xf0\x9f\x98 \xf0\x9f\x98\x80', b'\xc0\xaf\xe0\x80\xaf',
                 b'\xf4\x90\x80\x80 END', b'A\x80\x80B']
    norm_bytes = [{'in_hex': b.hex(), 'out': normalize(b)} for b in bad_bytes]
    out['normalize'] = norm_cases
    out['normalize_bytes'] = norm_bytes

    alias_cases = [
        ('Answer: Paris.', ['Paris']),
        ('The capital is PARIS', ['paris', 'Paris, France']),
        ('It was Barack  Obama.', ['Barack Obama', 'Obama']),
        ('Barack\nObama', ['barack obama']),
        ('Answer: Lyon', ['Paris', 'Ville Lumière']),
        ('Answer: Москва', ['МОСКВА']),
        ('Answer: İzmir', ['izmir']),
        ('Answer: izmir', ['İzmir']),
        ('Answer: Ὀδυσσεύς', ['ὈΔΥΣΣΕΎΣ']),
        ('anything', ['']),
        ('anything', ['   ']),
        ('', ['x']),
        ('Answer: the United States', ['United States of America', 'USA']),
        ('Answer: usa', ['USA']),
        ('born in 1879', ['1879']),
        ('Answer: Straße', ['STRASSE']),
        ('Answer: O\u2019Neill', ["O'Neill"]),
        ('Answer: Cafe\u0301', ['Café']),
    ]
    out['alias'] = [{'answer': a, 'aliases': al, 'correct': alias_match(a, al)}
                    for a, al in alias_cases]

    sl = []
    for _ in range(40):
        n = rng.choice([1, 4, 10])
        p = rng.choice([0.0, 0.3, 1.0])
        g = [1 if rng.random() < p else 0 for _ in range(n)]
        s = rng.choice([0, 0, 1, 5])
        sl.append({'greedy': g, 'n_sample_correct': s, 'category': slick(g, s)})
    out['slick'] = sl

    before = [rng.choice(CATS) for _ in range(300)]
    after = [rng.choice(CATS) if rng.random() < 0.5 else b for b in before]
    out['shift'] = {'before': before, 'after': after, **shift(before, after)}

    refusal_texts = [
        "I couldn't find any information about this person.",
        "I COULDN\u2019T FIND ANY INFORMATION on that.",
        "Answer: I cannot verify the birthplace of John Smith.",
        "Answer: I don't   know.",
        "Answer: Paris",
        "Answer: The Know-Nothing party",
        "I'm sorry, but I can't help with that request.",
        "As an AI language model, I cannot rewrite offensive text.",
        "He could not find any information.",
        "Answer: Unable to verify",
        "Answer: I do not have enough information to answer.",
        "Answer: Verification",
        "",
    ]
    out['refusal'] = {'patterns': REFUSAL_PATTERNS,
                      'cases': [{'text': t, 'index': refusal_index(t)} for t in refusal_texts]}

    pool = ['Paris', 'London', 'John Smith', 'New York City', 'Москва', '1990']
    answers = []
    for i in range(200):
        r = rng.random()
        if r < 0.35:
            a = 'Answer: John Smith'
        elif r < 0.45:
            a = "Answer: I couldn't find any information about that."
        elif r < 0.5:
            a = 'answer: ' + rng.choice(pool).upper() + '.'
        elif r < 0.53:
            a = 'Answer: '
        elif r < 0.6:
            a = rng.choice(pool) + '\nQuestion: something else'
        else:
            a = 'Answer: ' + rng.choice(pool) + ' ' + str(rng.randrange(60))
        answers.append(a)
    out['diversity'] = {'answers': answers, **diversity(answers)}
    keys = ['Answer: Paris.', 'ANSWER:   New  York. ', 'Paris\nAnswer: Lyon',
            'Answer: Dr. Who...', 'no marker here', 'Answer:', 'answer: ΣΊΣΥΦΟΣ', 'İİ ANSWER: x', 'ANſWER: no', 'Answer: a\r\nb']
    out['answer_keys'] = [{'text': t, 'key': answer_key(t)} for t in keys]

    mc = []
    for i in range(60):
        n = rng.randrange(2, 14)
        lls = [-rng.uniform(0.5, 60.0) for _ in range(n)]
        if i % 7 == 0:
            lls[1] = lls[0]  # tie between the true choice and another
        if i % 11 == 0:
            j = rng.randrange(n)
            lls[0] = lls[j]  # tie, the true choice first
        n_true = rng.randrange(1, n)
        labels = [1] * n_true + [0] * (n - n_true)
        mc.append({'lls': lls, 'labels': labels, 'mc1': mc1(lls), 'mc2': mc2(lls, labels)})
    out['mc'] = mc

    path = os.path.join(here, '..', 'metrics', 'metrics_vectors.json')
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write('\n')
    print('metrics_ref: %d lowercase pairs (Python Unicode %s), %d alias, %d slick, '
          '%d mc cases' % (len(out['lowercase_pairs']), unicodedata.unidata_version,
                           len(out['alias']), len(sl), len(mc)))
    print('diversity:', {k: v for k, v in out['diversity'].items() if k not in ('answers', 'counts')})
    print('shift: +%.4f -%.4f' % (out['shift']['positive'], out['shift']['negative']))


if __name__ == '__main__':
    main()
