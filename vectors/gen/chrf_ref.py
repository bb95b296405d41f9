#!/usr/bin/python3
"""chrf_ref.py - an independent, from-the-definition Python implementation of
sacreBLEU 2.x chrF / chrF++ (CHRF(), CHRF(word_order=2)), used to generate
the golden vectors in vectors/chrf/ for tests/test_chrf.c.

It is written from the metric's definition (Popovic 2015/2017 and the
sacreBLEU 2.x semantics documented in docs/metrics.md), not from the C code.
Run it with no arguments to check it against the sacreBLEU values stored in
$LLAMAREF_DATA (default ../shared/data) and regenerate vectors/chrf/*.json:

    /usr/bin/python3 vectors/gen/chrf_ref.py
"""
import json
import os
import sys
from collections import Counter

ASCII_PUNCT = set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~')


def char_ngrams(text, n):
    s = ''.join(text.split())  # drop every Unicode white-space character
    return Counter(s[i:i + n] for i in range(len(s) - n + 1))


def words(text):
    """sacreBLEU's chrF++ tokenisation: white-space split, then one ASCII
    punctuation mark split off the end of a word, or else off its start."""
    out = []
    for w in text.split():
        if len(w) > 1 and w[-1] in ASCII_PUNCT:
            out += [w[:-1], w[-1]]
        elif len(w) > 1 and w[0] in ASCII_PUNCT:
            out += [w[0], w[1:]]
        else:
            out.append(w)
    return out


def word_ngrams(toks, n):
    return Counter(tuple(toks[i:i + n]) for i in range(len(toks) - n + 1))


def all_ngrams(text, char_order, word_order):
    grams = [char_ngrams(text, n) for n in range(1, char_order + 1)]
    toks = words(text)
    grams += [word_ngrams(toks, n) for n in range(1, word_order + 1)]
    return grams


def pair_stats(hyp_grams, ref_grams):
    """[hyp, ref, match] per order; hyp n-grams count only when the reference
    has n-grams of that order."""
    st = []
    for h, r in zip(hyp_grams, ref_grams):
        nh = sum(h.values())
        nr = sum(r.values())
        m = sum(min(c, r[g]) for g, c in h.items() if g in r)
        st.append([nh if nr > 0 else 0, nr, m])
    return st


def f_score(stats, beta=2, eps_smoothing=False):
    factor = beta ** 2
    if eps_smoothing:
        eps = 1e-16
        total = 0.0
        for nh, nr, m in stats:
            p = m / nh if nh > 0 else eps
            r = m / nr if nr > 0 else eps
            d = factor * p + r
            total += (1 + factor) * p * r / d if d > 0 else eps
        return 100 * total / len(stats)
    sp = sr = 0.0
    k = 0
    for nh, nr, m in stats:
        if nh > 0 and nr > 0:
            sp += m / nh
            sr += m / nr
            k += 1
    if k == 0:
        return 0.0
    p = sp / k
    r = sr / k
    if p + r == 0:
        return 0.0
    return 100 * ((1 + factor) * p * r / (factor * p + r))


def sentence_stats(hyp, refs, char_order=6, word_order=0, beta=2):
    """Statistics of the reference with the best F (first one on ties)."""
    hg = all_ngrams(hyp, char_order, word_order)
    best, best_f = None, -1.0
    for ref in refs:
        st = pair_stats(hg, all_ngrams(ref, char_order, word_order))
        f = f_score(st, beta)
        if f > best_f:
            best, best_f = st, f
    return best


def sentence_chrf(hyp, refs, word_order=0):
    return f_score(sentence_stats(hyp, refs, 6, word_order))


def corpus_stats(hyps, refs_per_hyp, word_order=0):
    tot = None
    for h, rs in zip(hyps, refs_per_hyp):
        st = sentence_stats(h, rs, 6, word_order)
        if tot is None:
            tot = [list(x) for x in st]
        else:
            for a, b in zip(tot, st):
                for j in range(3):
                    a[j] += b[j]
    return tot


def corpus_chrf(hyps, refs_per_hyp, word_order=0):
    return f_score(corpus_stats(hyps, refs_per_hyp, word_order))


def read_pairs(path):
    """TSV with a header line; columns toxic_sentence, neutral_sentence."""
    with open(path, encoding='utf-8', newline='\n') as f:
        lines = f.read().split('\n')
    if lines and lines[-1] == '':
        lines.pop()
    rows = [ln.split('\t') for ln in lines[1:]]
    for i, r in enumerate(rows):
        assert len(r) == 2, (path, i + 2)
    return rows


def check_against_sacrebleu(data):
    worst = 0.0
    tsv = os.path.join(data, 'chrf', 'en_sentence_chrf.tsv')
    pairs = read_pairs(os.path.join(data, 'multiparadetox', 'en.tsv'))
    with open(tsv, encoding='utf-8') as f:
        rows = [ln.rstrip('\n').split('\t') for ln in f][1:]
    for lang, idx, c, cpp in rows:
        hyp, ref = pairs[int(idx)]
        for wo, want in ((0, float(c)), (2, float(cpp))):
            got = sentence_chrf(hyp, [ref], wo)
            worst = max(worst, abs(got - want))
            assert abs(got - want) <= 1e-6, (idx, wo, got, want)
    cz = sentence_chrf(
        'Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo zemře.',
        ['Nejvíce smutní jsme z toho, že musíme rozhodovat o tom, kdo bude žít a kdo zemře.'])
    assert abs(cz - 39.14081690) <= 1e-6, cz
    print('chrf_ref: %d sacreBLEU sentence values + Czech example agree '
          '(max |diff| %.2e, Czech %.8f)' % (2 * len(rows), worst, cz))


EDGE_CASES = [
    # name, hyp, refs
    ('identical', 'The cat sat on the mat.', ['The cat sat on the mat.']),
    ('empty_hyp', '', ['A reference sentence.']),
    ('empty_ref', 'A hypothesis sentence.', ['']),
    ('both_empty', '', ['']),
    ('whitespace_only_hyp', ' \t \u3000 ', ['word']),
    ('punctuation_only', '?!...', ['...!?']),
    ('single_char', 'a', ['a']),
    ('short_hyp', 'ab', ['abcdefgh ijk']),
    ('paren_split', '(hi) there, "quoted" word!', ['(hi there) , "quoted" word !']),
    ('no_overlap', 'xyz', ['abc']),
    ('cjk', '我们今天去公园散步。', ['今天我们去公园散步了。']),
    ('japanese', '東京は日本の首都です', ['日本の首都は東京です']),
    ('emoji', 'I love it 😀👍🏽!', ['I really love it 😀!']),
    ('emoji_zwj', '👨‍👩‍👧 family', ['family 👨‍👩‍👧‍👦']),
    ('combining', 'Cafe\u0301 au lait', ['Café au lait']),
    ('cyrillic', 'Ты просто идиот, понял?', ['Ты просто ошибаешься, понимаешь?']),
    ('german', 'Das ist völlig bescheuert!', ['Das ist nicht gut.']),
    ('ascii_separators', 'a\x1cb\x1dc d\x1ee\x1ff, x', ['abc de, x']),
    ('not_spaces', 'a\u200bb\u180ec\ufeffd', ['a b c d']),
    ('unicode_spaces', 'a\u00a0b\u2009c\u2028d', ['a b c d']),
    ('repeated', 'la la la la la la la', ['la la la']),
    ('multi_ref', 'the quick brown fox', ['a slow red dog', 'the quick brown fox jumps', 'quick fox']),
    ('multi_ref_tie', 'abc', ['xyz', 'uvw']),
    ('long_words', 'Donaudampfschifffahrtsgesellschaftskapitän', ['Donaudampfschifffahrtsgesellschaft Kapitän']),
]


def stats_json(st):
    return [x for row in st for x in row]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = os.path.join(here, '..', 'chrf')
    data = os.environ.get('LLAMAREF_DATA') or os.path.join(here, '..', '..', '..', 'shared', 'data')
    check_against_sacrebleu(data)

    cases = []
    for name, hyp, refs in EDGE_CASES:
        c = {'name': name, 'hyp': hyp, 'refs': refs}
        for wo, key in ((0, 'chrf'), (2, 'chrfpp')):
            st = sentence_stats(hyp, refs, 6, wo)
            c[key] = f_score(st)
            c[key + '_stats'] = stats_json(st)
        cases.append(c)

    corpora = []
    for lang in ('de', 'es', 'ru', 'en'):
        rel = 'multiparadetox/%s.tsv' % lang
        pairs = read_pairs(os.path.join(data, rel))
        hyps = [p[0] for p in pairs]
        refs = [[p[1]] for p in pairs]
        c = {'data': rel, 'hyp_column': 0, 'ref_column': 1, 'n': len(pairs)}
        for wo, key in ((0, 'chrf'), (2, 'chrfpp')):
            st = corpus_stats(hyps, refs, wo)
            c[key] = f_score(st)
            c[key + '_stats'] = stats_json(st)
            c[key + '_sentence_first50'] = [sentence_chrf(h, r, wo) for h, r in zip(hyps[:50], refs[:50])]
        corpora.append(c)
        print('chrf_ref: %s corpus chrF %.6f chrF++ %.6f (%d pairs)' % (lang, c['chrf'], c['chrfpp'], len(pairs)))

    doc = {
        'generator': 'vectors/gen/chrf_ref.py (independent Python implementation of sacreBLEU 2.x CHRF)',
        'char_order': 6, 'beta': 2,
        'stats_layout': '[hyp, ref, match] per order: char 1..6 then word 1..word_order',
        'cases': cases,
        'corpora': corpora,
    }
    with open(os.path.join(out_dir, 'chrf_vectors.json'), 'w', encoding='utf-8') as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write('\n')


if __name__ == '__main__':
    sys.exit(main())
