"""gen_chrf.py - the chrF / chrF++ golden vectors of vectors/chrf/ (read by
tests/eval/test_chrf.c), computed by sacreBLEU 2.6.0 itself:
sacrebleu.metrics.CHRF() and CHRF(word_order=2).  Scores are
sentence_score() / corpus_score(); the per-order statistics are the ones
CHRF._extract_corpus_statistics() returns (for several references: those of
the reference sacreBLEU picks, the best sentence F, first on ties).  Nothing
is re-implemented here.  Run in the oracle environment (`make oracle-env`):

    $(ORACLE_PY) vectors/gen/gen_chrf.py

It also checks the sacreBLEU values stored in $LLAMAREF_DATA/chrf (default
../shared/data) and the Czech example of the sacreBLEU README.  Running it
again reproduces vectors/chrf/chrf_vectors.json byte for byte.
"""
import json
import os
import sys

from sacrebleu.metrics import CHRF

METRICS = {0: CHRF(), 2: CHRF(word_order=2)}


def sentence_stats(hyp, refs, word_order=0):
    """sacreBLEU's statistics: [hyp, ref, match] per order, flattened."""
    return METRICS[word_order]._extract_corpus_statistics([hyp], [[r] for r in refs])[0]


def sentence_chrf(hyp, refs, word_order=0):
    return METRICS[word_order].sentence_score(hyp, refs).score


def corpus_stats(hyps, refs_per_hyp, word_order=0):
    n = len(refs_per_hyp[0])
    streams = [[rs[k] for rs in refs_per_hyp] for k in range(n)]
    per = METRICS[word_order]._extract_corpus_statistics(hyps, streams)
    return [sum(col) for col in zip(*per)]


def corpus_chrf(hyps, refs_per_hyp, word_order=0):
    n = len(refs_per_hyp[0])
    streams = [[rs[k] for rs in refs_per_hyp] for k in range(n)]
    return METRICS[word_order].corpus_score(hyps, streams).score


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
    print('gen_chrf: %d sacreBLEU sentence values + Czech example agree '
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


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = os.path.join(here, '..', 'chrf')
    data = os.environ.get('LLAMAREF_DATA') or os.path.join(here, '..', '..', '..', 'shared', 'data')
    check_against_sacrebleu(data)

    cases = []
    for name, hyp, refs in EDGE_CASES:
        c = {'name': name, 'hyp': hyp, 'refs': refs}
        for wo, key in ((0, 'chrf'), (2, 'chrfpp')):
            c[key] = sentence_chrf(hyp, refs, wo)
            c[key + '_stats'] = sentence_stats(hyp, refs, wo)
        cases.append(c)

    corpora = []
    for lang in ('de', 'es', 'ru', 'en'):
        rel = 'multiparadetox/%s.tsv' % lang
        pairs = read_pairs(os.path.join(data, rel))
        hyps = [p[0] for p in pairs]
        refs = [[p[1]] for p in pairs]
        c = {'data': rel, 'hyp_column': 0, 'ref_column': 1, 'n': len(pairs)}
        for wo, key in ((0, 'chrf'), (2, 'chrfpp')):
            c[key] = corpus_chrf(hyps, refs, wo)
            c[key + '_stats'] = corpus_stats(hyps, refs, wo)
            c[key + '_sentence_first50'] = [sentence_chrf(h, r, wo) for h, r in zip(hyps[:50], refs[:50])]
        corpora.append(c)
        print('gen_chrf: %s corpus chrF %.6f chrF++ %.6f (%d pairs)' % (lang, c['chrf'], c['chrfpp'], len(pairs)))

    doc = {
        'generator': 'vectors/gen/gen_chrf.py (sacrebleu 2.6.0 CHRF itself)',
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
