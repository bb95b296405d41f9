// gen_tokenizer_vectors.mjs - golden Llama 3 tokenizer vectors from an
// independent implementation, the npm package llama3-tokenizer-js@1.2.0
// (its vocabulary is byte-identical to Meta's tokenizer.model).
//
//   cd vectors/gen && npm install && node gen_tokenizer_vectors.mjs
//
// Writes ../tokenizer/llama3_cases.json: {"cases": [{"name", "text",
// "special", "ids"}]}.  ids never include BOS.  "special": false cases are
// encoded with special-token parsing disabled (tiktoken's encode() default,
// which llamaref follows); "special": true cases with the package's default
// parsing (llamaref's LR_ENCODE_SPECIAL).
// Also fills "ids" in ../tokenizer/chat_cases.json (rendered prompts from
// gen_chat_vectors.py), encoded with special tokens parsed as HF does.
//
// Known divergences of this JS port from tiktoken / HF (regex semantics),
// kept OUT of these inputs and covered by gen_pretokenize_vectors.py (Python
// `regex`): JS \s includes U+FEFF and excludes U+0085, and its contraction
// rule is ASCII-only ('ſ is a contraction under (?i) simple case folding).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import llama3Tokenizer from 'llama3-tokenizer-js';

const here = path.dirname(fileURLToPath(import.meta.url));
const shared = process.env.LLAMAREF_SHARED || path.join(here, '../../../shared');
const outDir = path.join(here, '../tokenizer');

const NO_SPECIAL = /(?!)/g; // a regex that never matches: plain text
const enc = (text, special) => llama3Tokenizer.encode(text, special
    ? { bos: false, eos: false }
    : { bos: false, eos: false, specialTokenRegex: NO_SPECIAL });

const cases = [];
const add = (name, text, special = false) => {
    for (const ch of text) {
        const c = ch.codePointAt(0);
        if (c === 0x85 || c === 0xfeff || (c >= 0xd800 && c <= 0xdfff))
            throw new Error(`${name}: character U+${c.toString(16)} where the JS oracle diverges`);
    }
    if (/'ſ/.test(text)) throw new Error(`${name}: 'ſ where the JS oracle diverges`);
    const ids = enc(text, special);
    if (!special && llama3Tokenizer.decode(ids) !== text) throw new Error(`${name}: JS round trip failed`);
    cases.push({ name, text, special, ids });
};

// 1. The 46 llama.cpp cases (checked against their published ids).
{
    const inp = fs.readFileSync(path.join(shared, 'assets/tokenizer-cases/llama-bpe.inp'), 'utf8')
        .split('\n__ggml_vocab_test__\n');
    const out = fs.readFileSync(path.join(shared, 'assets/tokenizer-cases/llama-bpe.out'), 'utf8').split('\n');
    for (let i = 0; i < 46; i++) {
        const exp = out[i].trim() === '' ? [] : out[i].trim().split(/\s+/).map(Number);
        add(`llama.cpp #${i}`, inp[i]);
        if (JSON.stringify(cases[cases.length - 1].ids) !== JSON.stringify(exp))
            throw new Error(`llama.cpp case ${i}: JS disagrees with the published ids`);
    }
}

// 2. Multilingual sentences: MultiParaDetox de/es/ru/en (first 40 rows, both
// columns), a 150-row newline-joined document per language, SynthDetoxM pairs.
for (const lang of ['de', 'es', 'ru', 'en']) {
    const rows = fs.readFileSync(path.join(shared, `data/multiparadetox/${lang}.tsv`), 'utf8')
        .split('\n').slice(1).filter(l => l.length).map(l => l.split('\t'));
    rows.slice(0, 40).forEach((r, i) => { add(`multiparadetox ${lang} ${i} toxic`, r[0]); add(`multiparadetox ${lang} ${i} neutral`, r[1]); });
    add(`multiparadetox ${lang} document`, rows.slice(40, 190).map(r => r[1]).join('\n'));
}
{
    const fs_pairs = JSON.parse(fs.readFileSync(path.join(shared, 'data/synthdetoxm/few_shot_pairs.json'), 'utf8'));
    for (const lang of Object.keys(fs_pairs))
        for (const kind of ['toxic', 'neutral'])
            fs_pairs[lang][kind].forEach((t, i) => add(`synthdetoxm ${lang} ${kind} ${i}`, t));
}

// 3. Edge cases.
const edge = {
    'empty': '',
    'one space': ' ',
    'spaces': '     ',
    'spaces before word': 'a     b',
    'spaces at end': 'word   ',
    'tab': '\t',
    'tabs and spaces': 'x \t \t  y\t\tz',
    'newlines': '\n\n\n',
    'crlf': 'line one\r\nline two\r\n\r\nline four\r\n',
    'cr only': 'a\rb\r\rc',
    'spaces then newline': 'a   \n   b  \n\n  c',
    'newline then spaces end': 'end\n   ',
    'nbsp': 'a\u00a0b \u00a0 c\u00a0\u00a0',
    'unicode spaces': 'x\u2000y\u2003z\u2009w\u200aq\u202fr\u205fs\u3000t\u1680u\u2028v\u2029w',
    'ideographic space run': '\u3000\u3000\u3000word',
    'vertical tab form feed': 'a\u000bb\u000cc',
    'digits': '1 12 123 1234 12345 123456 1234567',
    'long digits': '3141592653589793238462643383279502884197169399375105820974944592',
    'digits letters': 'abc123def4567ghi',
    'arabic-indic digits': '\u0661\u0662\u0663\u0664\u0665 \u06f1\u06f2\u06f3\u06f4',
    'devanagari digits': '\u0967\u0968\u0969\u096a\u096b\u096c\u096d',
    'fullwidth digits': '\uff11\uff12\uff13\uff14',
    'roman numerals and superscripts': '\u2160\u2161\u2162\u2163 x\u00b2 \u00bd \u2460\u2461',
    'contractions': "I'm you're he's she'd we've they'll isn't",
    'contractions upper': "I'M YOU'RE HE'S SHE'D WE'VE THEY'LL ISN'T",
    'contractions mixed': "it'S we'Ve they'lL you'rE",
    'contraction-like': "'sup 'til 'em 'dunno 'rest 'velvet 'llama 'x '",
    'curly apostrophes': 'I\u2019m you\u2019re don\u2019t \u2018quoted\u2019',
    'double apostrophe': "rock''n''roll ''s",
    'emoji': 'I love \ud83e\udd99 llamas \ud83d\ude00\ud83d\ude00!',
    'emoji zwj': '\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67\u200d\ud83d\udc66 family \ud83c\udff3\ufe0f\u200d\ud83c\udf08',
    'emoji skin tones': '\ud83d\udc4d\ud83c\udffb\ud83d\udc4d\ud83c\udffc\ud83d\udc4d\ud83c\udffd\ud83d\udc4d\ud83c\udffe\ud83d\udc4d\ud83c\udfff',
    'flags': '\ud83c\uddfa\ud83c\uddf8\ud83c\udde9\ud83c\uddea\ud83c\uddef\ud83c\uddf5',
    'cjk': '\u6211\u559c\u6b22\u5927\u7f8a\u9a7c\u3002\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3002\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8',
    'combining marks': 'e\u0301 a\u0300\u0301\u0302 Z\u0351\u0352\u0353a\u0354l\u0355g\u0356o',
    'combining after space': 'a \u0301b',
    'decomposed vs composed': '\u00e9 vs e\u0301',
    'arabic': '\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645',
    'hebrew': '\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd',
    'thai': '\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35\u0e04\u0e23\u0e31\u0e1a',
    'devanagari': '\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e',
    'greek': '\u039a\u03b1\u03bb\u03b7\u03bc\u03ad\u03c1\u03b1 \u03ba\u03cc\u03c3\u03bc\u03b5',
    'math symbols': '\u2200x\u2208\u211d: x\u00b2 \u2265 0 \u21d2 \u221a(x\u00b2) = |x|',
    'code': 'int main(void) {\n    printf("hello, %s\\n", argv[1]);\n\treturn 0;\n}\n',
    'python code': 'def f(x):\n    if x:\n        return [i**2 for i in range(x)]  # squares\n    return None\n',
    'url': 'See https://example.com/path/to?query=1&x=y#frag and http://a.b/c.',
    'email': 'mail me at first.last+tag@example.co.uk!',
    'punctuation runs': '...!!!???---***///\\\\\\ "quoted" (paren) [bracket] {brace}',
    'punct then newlines': 'end.\n\n\nnext!\r\n\r\n',
    'space punct': 'a ! b !! c !\n',
    'mixed scripts': 'English \u0420\u0443\u0441\u0441\u043a\u0438\u0439 \u65e5\u672c\u8a9e Deutsch \u00fc\u00e4\u00f6\u00df',
    'very long word': 'Pneumonoultramicroscopicsilicovolcanoconiosis ' + 'supercalifragilisticexpialidocious'.repeat(12),
    'long letter run': 'ab'.repeat(700) + 'xyz'.repeat(300),
    'long space run': ' '.repeat(300) + 'x' + ' '.repeat(257),
    'long newline run': '\n'.repeat(200) + 'x',
    'long punct run': '=-'.repeat(400),
    'long digit run': '9876543210'.repeat(50),
    'repeated a': 'a'.repeat(513),
    'control chars': 'a\u0000b\u0001c\u001fd\u007fe',
    'private use and noncharacters': '\ue000\uf8ff \ufffd \uffff',
    'supplementary letters': '\ud835\udd04\ud835\udd1e\ud835\udd2b\ud835\udd31 \ud801\udc00\ud801\udc28',
    'special token text plain': 'Hello <|eot_id|> and <|begin_of_text|> and <|reserved_special_token_5|>',
    'special-like text': '<|not_special|> <|eot_id <|eot_id|',
    'chat-like plain': '<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>',
};
for (const [name, text] of Object.entries(edge)) add(`edge ${name}`, text);

// 4. Special-token parsing (special: true).
const special = {
    'eot': 'Hello<|eot_id|>',
    'chat': '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    'adjacent specials': '<|eot_id|><|eot_id|><|eom_id|>',
    'specials with spaces': ' <|eot_id|> x <|python_tag|>  ',
    'reserved': '<|reserved_special_token_0|><|reserved_special_token_2|><|reserved_special_token_247|><|reserved_special_token_10|>',
    '3.1 names': '<|finetune_right_pad_id|><|eom_id|><|python_tag|><|end_of_text|>',
    'not special': '<|reserved_special_token_248|> <|eot_id| <|eot_id|>',
    'special inside word': 'abc<|eot_id|>def',
};
for (const [name, text] of Object.entries(special)) add(`special ${name}`, text, true);

// 5. Seeded random strings over an alphabet of hard characters.
{
    let seed = 20240726;
    const rnd = n => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n; };
    const alphabet = [' ', ' ', ' ', '  ', '\t', '\n', '\r', '\r\n', '\u00a0', '\u3000', '\u2009',
        'a', 'b', 'e', 'r', 's', 't', 'l', 'v', 'm', 'd', 'S', 'T', 'D', 'M', 'L', 'R', 'E', 'V', 'ß', 'é', 'Ж', 'я',
        '\u6f22', '\u5b57', '\u0627', '\u0928', '\u094d', '\u0301', '0', '1', '7', '\u0663', '\u00b2', '\u2163',
        "'", "'", '\u2019', '.', ',', '!', '?', '-', '_', '(', ')', '"', '#', '@', '/', '\\', '<', '|', '>',
        '\ud83d\ude00', '\u200d', '\ud83c\udffd', '\ufe0f', '\u00ad', '\u0000', '\u007f', '$', '%', '€', '™', '…'];
    for (let i = 0; i < 400; i++) {
        const len = 1 + rnd(i < 300 ? 24 : 120);
        let s = '';
        for (let k = 0; k < len; k++) s += alphabet[rnd(alphabet.length)];
        add(`random ${i}`, s);
    }
}

fs.mkdirSync(outDir, { recursive: true });
const lines = cases.map(c => '  ' + JSON.stringify(c));
fs.writeFileSync(path.join(outDir, 'llama3_cases.json'),
    '{\n "generator": "vectors/gen/gen_tokenizer_vectors.mjs with llama3-tokenizer-js@1.2.0",\n' +
    ' "cases": [\n' + lines.join(',\n') + '\n ]\n}\n');
console.log(`llama3_cases.json: ${cases.length} cases`);

// Chat prompts rendered by gen_chat_vectors.py: add their ids.
const chatPath = path.join(outDir, 'chat_cases.json');
if (fs.existsSync(chatPath)) {
    const chat = JSON.parse(fs.readFileSync(chatPath, 'utf8'));
    for (const c of chat.cases) c.ids = enc(c.rendered, true);
    chat.ids_generator = 'vectors/gen/gen_tokenizer_vectors.mjs with llama3-tokenizer-js@1.2.0 (special tokens parsed)';
    fs.writeFileSync(chatPath, JSON.stringify(chat, null, 1) + '\n');
    console.log(`chat_cases.json: ids for ${chat.cases.length} cases`);
}
