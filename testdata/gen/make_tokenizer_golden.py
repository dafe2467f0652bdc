#!/usr/bin/env python3
"""Golden tokenizer outputs for tests/tokenizer_golden_test.cpp.

Writes (all under testdata/tokenizer/):
  corpus.jsonl           one entry per line: {"text": str} or, for byte strings that are not
                         valid UTF-8, {"hex": "..."} (the raw bytes).
  chat_golden.json       chat prompts rendered by transformers' apply_chat_template (the
                         templates shipped with qwen3, deepseek_v3, llama3) and by jinja2 for
                         the Llama-2-chat and Mistral-Instruct-v0.1 templates quoted below.
  mini_cases.json        small hand-written tokenizer.json files exercising components the
                         shared tokenizers do not use (Metaspace, Digits, Split behaviours
                         Removed/MergedWithPrevious/MergedWithNext+invert, Strip, Replace with a
                         regex, unk), each with reference ids and decode for a few texts.
  golden_<name>.jsonl    one line per corpus entry, same order:
                           "s":  Tokenizer.encode(text, add_special_tokens=True).ids
                           "n":  Tokenizer.encode(text, add_special_tokens=False).ids
                           "d":  decode(s, skip_special_tokens=False)
                           "k":  decode(s, skip_special_tokens=True)
                           "rt": decode(n, skip_special_tokens=False) == text
Reference: the Hugging Face `tokenizers` library (version recorded in golden_meta.json), loading
each tokenizer.json with Tokenizer.from_file. Invalid UTF-8 convention: the raw bytes are decoded
with errors="replace" (each maximal ill-formed subpart -> U+FFFD) before encoding; modelprint's
encode() applies the same rule to its byte input.

Run from the repository root: python3 testdata/gen/make_tokenizer_golden.py
The corpus is deterministic (seeded); outputs are committed, so tests need no Python.
"""
import json
import os
import random
import sys

import tokenizers
from tokenizers import Tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
OUT = os.path.join(ROOT, "testdata", "tokenizer")

TOKENIZERS = {
    "gpt2": os.path.join(SHARED, "tokenizers", "gpt2", "tokenizer.json"),
    "qwen3": os.path.join(SHARED, "tokenizers", "qwen3", "tokenizer.json"),
    "deepseek_v3": os.path.join(SHARED, "tokenizers", "deepseek_v3", "tokenizer.json"),
    "llama3": os.path.join(SHARED, "tokenizers", "llama3", "tokenizer.json"),
    "stories260K": os.path.join(SHARED, "models", "stories260K", "tokenizer.json"),
}


def corpus():
    c = []
    # English, contractions (the (?i:'s|'t|...) branch), punctuation.
    c += [
        "", " ", "  ", "\n", "\t", "a", "Hello", "Hello world", " Hello world", "Hello world ",
        "Hello, world! How's it going?", "I'm sure they'll say we've done what we'd planned.",
        "DON'T SHOUT: IT'S RUDE", "It'S MiXeD CaSe", "rock 'n' roll", "'s 't 're 've 'm 'll 'd",
        "The quick brown fox jumps over the lazy dog.",
        "Once upon a time, there was a little girl named Lily. She loved to play outside.",
        "e-mail: someone@example.com, web: https://example.org/path?q=1&r=2#frag",
        "\"Quoted\" and 'single' and `backticks` and (parens) [brackets] {braces}",
        "Ellipsis... dashes -- and — em — and – en –", "100% sure; 50/50 odds; #1 rank; $5.00",
        "ALLCAPS lowercase Titlecase camelCase snake_case kebab-case",
        "Mr. Smith went to Washington D.C. on Jan. 5th, 2024.",
        "Supercalifragilisticexpialidocious antidisestablishmentarianism",
    ]
    # Whitespace: runs of spaces, tabs, newlines, CRLF, exotic spaces.
    c += [
        "a  b   c    d", "a\tb\t\tc", "line1\nline2\n\nline4", "crlf\r\nline\r\n", "\r\n\r\n",
        "   leading spaces", "trailing spaces   ", "   both   ", " " * 17, "\n" * 5, "\t" * 4,
        " \n \n ", "x \n y", "word\u00a0nbsp", "ideographic\u3000space", "line\u2028sep",
        "nel\u0085char", "zero\u200bwidth", "thin\u2009space", "mixed \t\n\r\x0b\x0c ws",
        "end with newline\n", "  \t  \n  indented", "a" + " " * 40 + "b",
    ]
    # Code.
    c += [
        "def f(x):\n    return x * 2\n",
        "int main() {\n\tprintf(\"%d\\n\", 42);\n\treturn 0;\n}\n",
        "for (int i = 0; i < n; ++i) {\n        sum += a[i];\n    }",
        "    if x == 1:\n        pass\n    else:\n        raise ValueError('bad')",
        "<div class=\"a\">&lt;tag&gt; &amp; text</div>", "SELECT * FROM t WHERE id = 42;",
        "x=>x+1; a&&b||c; a!=b; a<=b; a>=b; a<<2; a>>>3;", "#include <vector>\n#define MAX 10",
        "```python\nprint('hi')\n```", "{\"key\": [1, 2.5, -3e10, null, true]}",
        "path/to/file.txt C:\\Windows\\System32 ~/.bashrc", "$ ls -la | grep foo > out.txt 2>&1",
        "fn main() { let v: Vec<u8> = vec![0xFF; 16]; }", "// comment\n/* block */\n# hash",
        "\t\tdeeply\n\t\t\tnested\n", "a_b_c __init__ __main__", "0x1F 0b1010 0o777 1e-9 3.14f",
    ]
    # Numbers of many lengths.
    for n in range(1, 26):
        c.append("".join(str((i * 7 + n) % 10) for i in range(n)))
    c += [
        "3.14159265358979", "-42", "+7", "1,234,567", "1.000.000,50", "12:34:56", "2024-01-31",
        "v1.2.3", "1st 2nd 3rd 4th", "½ ¾ ⅓", "²³¹ ₁₂₃", "①②③", "Ⅻ ⅻ", "٣٤٥ ۱۲۳", "１２３４５",
        "१२३ ৪৫৬", "year 1999 and 2000 and 10000", "phone +1 (555) 123-4567", "0000000000",
    ]
    # CJK, Korean, other scripts.
    c += [
        "你好，世界！", "我爱北京天安门。", "今天天气很好，我们去公园散步吧。", "中文English混合text",
        "繁體中文測試", "日本語のテキストです。", "ひらがな カタカナ 漢字", "ｶﾀｶﾅ 半角", "東京タワーに行きました",
        "한국어 텍스트입니다.", "안녕하세요 세계", "ㄱㄴㄷ ㅏㅑㅓ", "العربية نص تجريبي", "مرحبا بالعالم 123",
        "עברית טקסט", "Русский текст, ёлка!", "Ελληνικά κείμενο", "हिन्दी पाठ परीक्षण", "ภาษาไทยทดสอบ",
        "Tiếng Việt có dấu", "ქართული", "Հայերեն", "ᚠᛇᚻ runes", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙", "Ａｂｃ fullwidth",
        "Привет, 世界! مرحبا 👋", "mixed中文とにほんごand한국어", "数字123和字母abc混合",
        "中文，标点。符号！？", "「引用」『二重』【括弧】", "…—·", "x²+y²=z²", "∑∫√∞≠≤≥",
    ]
    # NFC-sensitive text (Qwen3 normalizes with NFC).
    c += [
        "e\u0301", "cafe\u0301", "n\u0303o", "A\u030a vs \u212b vs \u00c5", "\u1e0b\u0323",
        "d\u0307\u0323", "d\u0323\u0307", "a\u0323\u0302", "a\u0302\u0323", "\u1100\u1161\u11a8",
        "\u1100\u1161", "\uac00\u11a8", "Vie\u0302\u0323t Nam", "\ufb01 ligature", "\u2126 ohm",
        "o\u0308\u0304", "\u0041\u030a\u0301", "\u0301leading combining", "\u0e01\u0e34\u0e4a",
        "\u0915\u093c", "\u05d0\u05b7", "\u0627\u0653", "\u00e9\u0301",
    ]
    # Emoji, ZWJ sequences, flags, skin tones, variation selectors.
    c += [
        "😀", "😀😃😄", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇺🇸🇯🇵🇩🇪", "❤️", "☺︎", "🧑🏾‍💻 coding",
        "emoji in text 🎉 party 🎂", "👩‍❤️‍💋‍👨", "1️⃣ 2️⃣ #️⃣", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🤷‍♀️", "🐍🦀🐹",
        "text😀text", " 😀 ", "😀\n😀", "🫠🫶🪿",
    ]
    # Special tokens of every tokenizer inside text (and near misses).
    specials = [
        "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>", "<tool_call>",
        "<|fim_prefix|>", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>",
        "<｜Assistant｜>", "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>",
        "<|start_header_id|>", "<s>", "</s>", "<unk>",
    ]
    for s in specials:
        c.append("before" + s + "after")
        c.append(" " + s + " spaced ")
    c += [
        "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n",
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
        "<｜begin▁of▁sentence｜>You are helpful.<｜User｜>Hi<｜Assistant｜>",
        "<s>[INST] hello [/INST] answer</s>", "<|im_start", "<|im_end|>>", "<<|endoftext|>>",
        "<|endoftext|><|endoftext|>", "<think>\nreasoning\n</think>\n\nanswer", "<s><s></s>",
        "<|endoftext", "endoftext|>", "<|ENDOFTEXT|>", "< s >",
    ]
    # Byte-fallback-heavy text for the 512-token stories vocabulary.
    c += ["Lily and Tom played in the park.", "Zebra quiz jumps!", "ÀÉÎÕÜ àéîõü", "ÿ þ ð ß"]
    # Long strings.
    para = ("Once upon a time, in a small village, there lived a kind old man who loved to tell "
            "stories to the children. Every evening they gathered around the fire. ")
    c += [para * 8, " " * 300, "a" * 500, "9" * 200, "中" * 300, "😀" * 100, ("x\n" * 100),
          "ab " * 200, "\t " * 50]
    # Invalid UTF-8 (byte strings).
    inval = [
        b"\xff", b"\xfe\xff", b"abc\x80def", b"\xc0\x80", b"\xc3", b"\xe4\xb8", b"\xe4\xb8x",
        b"\xf0\x9f\x98", b"\xf0\x9f\x98x", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf5\x80\x80\x80",
        b"\xf4\x90\x80\x80", b"\xe0\x80\x80", b"\xf0\x80\x80\x80", b"ok \xe2\x82 broken \xac",
        b"\x80\x80\x80", b"mid\xbfword", b"\xc2\x41", b"\xe1\x80\x41\x42", b"end\xf0",
        b"<|endoftext|>\xff<|im_end|>", b"\xe4\xb8\xad\xe6\x96", b"\xce\xbb\xce", b"\xf8\x88\x80\x80\x80",
    ]
    for b in inval:
        c.append(b)
    # Seeded random strings over a mixed alphabet.
    rng = random.Random(20240601)
    alphabet = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") +
                list(" \t\n\r.,;:!?'\"-_()[]{}<>/\\@#$%^&*+=|~`") + list("éüñçßøå") +
                list("中文字日本語한국어العربيةабв") + ["😀", "👍", "\u200d", "\u0301", "\u00a0", "\u3000"] +
                ["<|im_end|>", "<s>", "<|endoftext|>", "'s", "'ll", "  ", "\n\n", "123", "4567"])
    for i in range(70):
        n = rng.randint(1, 40)
        c.append("".join(rng.choice(alphabet) for _ in range(n)))
    return c


LLAMA2_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
    "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}"
    "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}"
    "{% endif %}{% endfor %}")
MISTRAL_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}"
    "{% endif %}{% endfor %}")


def chat_golden():
    from transformers import AutoTokenizer
    import jinja2
    convs = [
        [{"role": "user", "content": "Hello!"}],
        [{"role": "system", "content": "You are helpful."},
         {"role": "user", "content": "What is 2+2?"}],
        [{"role": "system", "content": "You are helpful."},
         {"role": "user", "content": "What is 2+2?"},
         {"role": "assistant", "content": "4"},
         {"role": "user", "content": "And 3+3?"}],
        [{"role": "user", "content": "  padded  \n"}],
        [{"role": "user", "content": "你是哪个模型？"}],
    ]
    out = []
    for name in ["qwen3", "deepseek_v3", "llama3"]:
        tok = AutoTokenizer.from_pretrained(os.path.join(SHARED, "tokenizers", name))
        for conv in convs:
            text = tok.apply_chat_template(conv, tokenize=False, add_generation_prompt=True)
            out.append({"tokenizer": name, "format": "auto", "messages": conv,
                        "add_generation_prompt": True, "text": text})
    env = jinja2.Environment()
    env.globals["raise_exception"] = lambda m: (_ for _ in ()).throw(ValueError(m))
    for fmt, tpl in [("llama2", LLAMA2_TEMPLATE), ("mistral", MISTRAL_TEMPLATE)]:
        for conv in convs:
            if fmt == "mistral" and conv[0]["role"] == "system":
                continue
            text = env.from_string(tpl).render(messages=conv, bos_token="<s>", eos_token="</s>",
                                               add_generation_prompt=True)
            out.append({"tokenizer": "stories260K", "format": fmt, "messages": conv,
                        "add_generation_prompt": True, "text": text})
    with open(os.path.join(OUT, "chat_golden.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
    return len(out)


def mini_cases():
    vocab = {c: i for i, c in enumerate(
        ["<unk>", "\u2581", "a", "b", "c", "1", "2", "3", "-", "\u2581a", "ab", "\u2581ab", "x"])}
    base = {
        "version": "1.0", "truncation": None, "padding": None, "normalizer": None,
        "post_processor": None,
        "added_tokens": [{"id": 0, "content": "<unk>", "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}],
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>",
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "vocab": vocab,
                  "merges": ["\u2581 a", "a b", "\u2581a b"]}}
    meta = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True}
    cases = {
        "metaspace_first": {"pre_tokenizer": meta, "decoder": meta},
        "digits_split_previous": {"pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": False},
            {"type": "Split", "pattern": {"String": "-"}, "behavior": "MergedWithPrevious",
             "invert": False}]}, "decoder": None},
        "digits_individual": {"pre_tokenizer": {"type": "Digits", "individual_digits": True},
                              "decoder": None},
        "split_removed": {"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "[-1]"},
                                            "behavior": "Removed", "invert": False},
                          "decoder": None},
        "split_next_invert": {"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "a+"},
                                                "behavior": "MergedWithNext", "invert": True},
                              "decoder": None},
        "split_contiguous": {"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "[ab]"},
                                               "behavior": "Contiguous", "invert": False},
                             "decoder": None},
        "strip_replace": {"normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Strip", "strip_left": True, "strip_right": True},
            {"type": "Replace", "pattern": {"Regex": "c+"}, "content": "x"}]},
            "pre_tokenizer": None, "decoder": None},
    }
    texts = ["ab ab", "a1-23-b", "ab a", "  cab  cc ", "abzab", "", "112-3"]
    out = []
    for name, c in cases.items():
        j = dict(base)
        j.update(c)
        tok = Tokenizer.from_str(json.dumps(j))
        rows = []
        for x in texts:
            ids = tok.encode(x).ids
            rows.append({"text": x, "ids": ids, "decoded": tok.decode(ids),
                         "decoded_all": tok.decode(ids, skip_special_tokens=False)})
        out.append({"name": name, "tokenizer": j, "cases": rows})
    with open(os.path.join(OUT, "mini_cases.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
    return len(out)


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    entries = corpus()
    texts = []
    with open(os.path.join(OUT, "corpus.jsonl"), "w", encoding="utf-8") as f:
        for e in entries:
            if isinstance(e, bytes):
                f.write(json.dumps({"hex": e.hex()}) + "\n")
                texts.append(e.decode("utf-8", errors="replace"))
            else:
                f.write(json.dumps({"text": e}, ensure_ascii=False) + "\n")
                texts.append(e)
    for name, path in TOKENIZERS.items():
        tok = Tokenizer.from_file(path)
        with open(os.path.join(OUT, "golden_%s.jsonl" % name), "w", encoding="utf-8") as f:
            for t in texts:
                s = tok.encode(t, add_special_tokens=True).ids
                n = tok.encode(t, add_special_tokens=False).ids
                row = {
                    "s": s,
                    "n": n,
                    "d": tok.decode(s, skip_special_tokens=False),
                    "k": tok.decode(s, skip_special_tokens=True),
                    "rt": tok.decode(n, skip_special_tokens=False) == t,
                }
                f.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
    meta = {"tokenizers_version": tokenizers.__version__, "python": sys.version.split()[0],
            "entries": len(entries), "tokenizers": list(TOKENIZERS)}
    with open(os.path.join(OUT, "golden_meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print("wrote %d entries for %d tokenizers" % (len(entries), len(TOKENIZERS)))
    print("wrote %d chat prompts" % chat_golden())
    print("wrote %d mini tokenizers" % mini_cases())


if __name__ == "__main__":
    main()
