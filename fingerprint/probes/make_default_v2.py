#!/usr/bin/env python3
"""Writes fingerprint/probes/default_v2.jsonl, the built-in probe set v2 (issue 16).

Every prompt below was written for modelprint (no benchmark data). The set has named subsets
(the "subset" field): code, narrative, factual, chat, multilingual, arithmetic, identity;
`--probes default-v2:code` (or `default-v2:code,chat`) selects some of them
(fingerprint/probes/probe_set.h). Deterministic: no randomness, the arithmetic operands come
from fixed formulas. Run: python3 fingerprint/probes/make_default_v2.py && sh
fingerprint/probes/make_inc.sh
"""
import json
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "default_v2.jsonl")
probes = []


def add(subset, category, lang, prompts, n_tokens=32):
    for p in prompts:
        k = sum(1 for q in probes if q["subset"] == subset and q["lang"] == lang) + 1
        probes.append({"id": f"{subset}-{lang}-{k:03d}", "subset": subset, "category": category,
                       "lang": lang, "prompt": p, "max_new_tokens": n_tokens})


# --- code (90): tasks in several languages, and function heads to complete -------------------
code_tasks = [
    "reverses a string", "checks whether a number is prime", "returns the n-th Fibonacci number",
    "counts the vowels in a word", "merges two sorted lists", "removes duplicates from a list",
    "computes the factorial of n", "finds the largest element of an array",
    "converts Celsius to Fahrenheit", "tests whether a string is a palindrome",
    "flattens a nested list", "computes the greatest common divisor of two integers",
    "returns the sum of the digits of an integer", "splits a sentence into words",
    "sorts a list of pairs by their second element", "reads a file and counts its lines",
    "computes the mean of a list of numbers", "transposes a matrix",
    "checks whether two words are anagrams", "returns the binary representation of an integer",
]
for lang_name, tasks in (("Python", code_tasks[:10]), ("C", code_tasks[10:15]),
                         ("JavaScript", code_tasks[15:20]), ("Rust", code_tasks[0:5]),
                         ("Go", code_tasks[5:10])):
    add("code", "code", "en", [f"Write a {lang_name} function that {t}." for t in tasks])
add("code", "code", "en", [
    "def is_even(n):\n    return", "def add(a, b):\n    \"\"\"Return the sum of a and b.\"\"\"\n",
    "for i in range(10):\n    if i % 2 == 0:\n        ", "import os\n\nfor name in os.listdir('.'):\n",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, x):\n",
    "def fib(n):\n    if n < 2:\n        return n\n", "with open('data.txt') as f:\n    for line in f:\n",
    "int main(void) {\n    int x = 0;\n", "#include <stdio.h>\n\nint square(int x) {\n",
    "for (int i = 0; i < n; ++i) {\n", "function greet(name) {\n  return",
    "const numbers = [1, 2, 3, 4];\nconst doubled = numbers.map(",
    "SELECT name, COUNT(*) FROM orders", "CREATE TABLE users (\n  id INTEGER PRIMARY KEY,\n",
    "#!/bin/sh\n# print every .txt file in this folder\n", "fn main() {\n    let v = vec![1, 2, 3];\n",
    "public static int max(int a, int b) {\n", "x = [i * i for i in range(",
    "try:\n    value = int(text)\nexcept ValueError:\n", "import numpy as np\n\na = np.zeros((3, 3))\n",
])
add("code", "code", "en", [
    "What does the Python expression len('hello') return?", "Explain what a hash table is.",
    "What is the difference between a list and a tuple in Python?", "What does git commit do?",
    "Why is recursion sometimes slower than a loop?", "What is a race condition?",
    "Explain big-O notation in two sentences.", "What does the SQL keyword JOIN do?",
    "How do you declare a constant in C++?", "What is a null pointer?",
    "Fix the bug: def mean(xs): return sum(xs) / len(x)", "What is the output of print(3 // 2) in Python?",
    "What is a unit test?", "What does HTTP status code 404 mean?",
    "Explain the difference between a process and a thread.", "What is a regular expression?",
    "How do you reverse a list in Python?", "What is the purpose of a .gitignore file?",
    "What is an API?", "Name three sorting algorithms.",
    "What does the command ls -l show?", "What is JSON used for?",
    "Why do programmers write comments?", "What is a compiler?",
    "What is the difference between == and is in Python?",
])

# --- narrative (85): story openings and continuations -----------------------------------------
add("narrative", "open", "en", [
    "Once upon a time, in a village at the edge of a forest,", "The old lighthouse keeper climbed the stairs and",
    "Mia found a small key under her pillow. She", "The rain had not stopped for three days when",
    "Tom and his dog walked to the river every morning. One day", "The spaceship landed quietly in the field behind the school.",
    "Lily wanted to bake a cake for her grandmother, but", "At the top of the mountain there was a tiny house where",
    "The little robot looked at the stars and wondered", "Nobody in the town had ever opened the blue door, until",
    "Ben was afraid of the dark. Every night he", "The king called his three daughters and said,",
    "A cat named Pepper lived in a bookshop. Every evening,", "The train stopped in the middle of nowhere, and",
    "When Sara opened the letter, she gasped, because", "The dragon was tired of guarding gold. It decided to",
    "In the middle of the night, the toys in the room", "The fisherman pulled up his net and found",
    "Grandpa told us a story about the winter when", "The new girl at school sat alone at lunch until",
    "Far beneath the sea, a young octopus", "The clock in the hall struck thirteen, and",
    "Max built a kite out of old newspapers. When the wind came,", "The baker's oven began to sing one morning.",
    "On the first day of summer, the children", "A tiny seed fell between two stones and",
    "The detective looked at the muddy footprints and said,", "Anna's balloon floated away over the rooftops, so",
    "The village had one rule: never whistle after sunset. One evening",
    "Two friends found a map in the attic. It showed",
])
add("narrative", "open", "en", [f"Write a short story about {t}." for t in [
    "a lost umbrella", "a friendly ghost", "a boy who could talk to birds", "a rainy birthday",
    "a clock that ran backwards", "a girl who planted a garden on the moon", "a brave mouse",
    "the last day of school", "a snowman that did not melt", "two rival bakers",
    "a dog who wanted to fly", "an old bicycle", "a storm at sea", "a library at midnight",
    "a shy giant", "a missing shoe", "a turtle who wanted to win a race", "a magic paintbrush",
    "a city without colours", "a letter that arrived fifty years late",
]])
add("narrative", "open", "en", [
    "Describe a sunrise over the ocean.", "Describe the sound of a busy market.",
    "Write a poem about autumn leaves.", "Write a haiku about the moon.",
    "Write the opening line of a mystery novel.", "Describe a forest after the rain.",
    "Write a limerick about a cat.", "Describe your favourite place in three sentences.",
    "Write a fable with a moral about patience.", "Write a dialogue between the sun and the moon.",
    "Describe a cozy kitchen in winter.", "Write a poem about the sea.",
    "Tell a bedtime story in five sentences.", "Write a diary entry of a pirate.",
    "Describe a city at night.", "Write a story that ends with the words 'and then it was quiet'.",
    "Continue: The wind whispered through the tall grass,", "Continue: She had never seen so many stars.",
    "Continue: He opened the box, and inside was", "Continue: The party was almost over when",
    "Write a fairy tale about a clever fox.", "Describe the feeling of the first snow.",
    "Write a story in which a river talks.", "Write a short scene in a train station.",
    "Write a poem about friendship.", "Write a paragraph about a dream you had.",
    "Write a story about a robot learning to paint.", "Describe an old castle on a hill.",
    "Write a story for children about sharing.", "Write a story about a lighthouse in a storm.",
    "Describe a garden in spring.", "Write a tale about a wise old owl.",
    "Write a funny story about a chef and a chicken.", "Describe a thunderstorm from a child's view.",
    "Write a story that begins in a bakery.",
])

# --- factual QA (90) --------------------------------------------------------------------------
add("factual", "factual", "en", [
    "What is the capital of France?", "What is the capital of Japan?", "What is the capital of Canada?",
    "What is the capital of Australia?", "What is the capital of Brazil?", "What is the capital of Kenya?",
    "What is the capital of Egypt?", "What is the capital of Norway?", "What is the capital of Peru?",
    "What is the capital of Vietnam?", "What is the largest planet in the solar system?",
    "How many planets are in the solar system?", "What is the chemical symbol for gold?",
    "What is the chemical symbol for sodium?", "What gas do plants absorb from the air?",
    "What is the boiling point of water at sea level in Celsius?", "How many continents are there?",
    "What is the longest river in Africa?", "What is the tallest mountain on Earth?",
    "Who wrote Romeo and Juliet?", "Who painted the Mona Lisa?", "Who developed the theory of relativity?",
    "In which year did the first human land on the Moon?", "What is the largest ocean?",
    "What is the freezing point of water in Fahrenheit?", "How many legs does a spider have?",
    "What is the hardest natural substance?", "What is the main language spoken in Brazil?",
    "What is the smallest prime number?", "Which organ pumps blood through the body?",
    "What is the speed of light, approximately?", "What is photosynthesis?",
    "What is the currency of Japan?", "What is the currency of the United Kingdom?",
    "Which planet is known as the Red Planet?", "How many bones are in the adult human body?",
    "What is the largest desert in the world?", "What is the largest mammal?",
    "Who was the first president of the United States?", "What does DNA stand for?",
    "What is the chemical formula of water?", "Which element has atomic number 1?",
    "What is the capital of Germany?", "What is the capital of Italy?", "What is the capital of Spain?",
    "What is the capital of China?", "What is the capital of India?", "What is the capital of Mexico?",
    "What is the capital of Argentina?", "What is the capital of Turkey?",
    "What causes the seasons on Earth?", "What is gravity?", "Why is the sky blue?",
    "What is an atom made of?", "What is the function of the lungs?", "How do bees make honey?",
    "What is the difference between weather and climate?", "What is a volcano?",
    "What is the Great Wall of China?", "Who invented the telephone?", "Who discovered penicillin?",
    "What is the largest country by area?", "Which country has the most people?",
    "What is the main ingredient of guacamole?", "What instrument has 88 keys?",
    "How many days are in a leap year?", "How many minutes are in an hour?",
    "What is the square root of 81?", "What is the primary colour missing from red and blue?",
    "What do caterpillars turn into?", "How many hearts does an octopus have?",
    "What is the closest star to Earth?", "What is the Milky Way?",
    "What language has the most native speakers?", "Which ocean lies between Africa and Australia?",
    "What is the capital of South Korea?", "What is the capital of Greece?", "What is the capital of Poland?",
    "What is the capital of Sweden?", "What is the capital of Nigeria?",
    "What metal is liquid at room temperature?", "What is the largest organ of the human body?",
    "What year did World War II end?", "Who wrote the Odyssey?", "What is the Pythagorean theorem?",
    "What is an earthquake?", "What is the unit of electrical resistance?", "What is evaporation?",
    "Which animal is known as the king of the jungle?", "What do you call a baby kangaroo?",
])

# --- chat (75): advice, opinions, everyday conversation ----------------------------------------
add("chat", "open", "en", [
    "Hi! How are you today?", "Can you help me plan a weekend trip?", "What should I cook for dinner tonight?",
    "I feel tired all the time. Any advice?", "How can I get better at waking up early?",
    "What is a good gift for a friend who likes books?", "Can you recommend a hobby for rainy days?",
    "How do I stay focused while studying?", "Tell me a joke.", "What do you think about cats?",
    "I have a job interview tomorrow. How should I prepare?", "How can I save money each month?",
    "What's a polite way to decline an invitation?", "How do I start learning to play the guitar?",
    "Can you give me tips for a first date?", "I am bored. What should I do?",
    "How do I make new friends in a new city?", "What is the best way to learn a new language?",
    "How can I be more productive at work?", "Give me three ideas for a birthday party.",
    "How do I apologise to a friend?", "What should I pack for a beach holiday?",
    "My plant's leaves are turning yellow. What should I do?", "How do I write a thank-you note?",
    "How can I sleep better?", "What are some easy exercises I can do at home?",
    "Can you suggest a name for my new puppy?", "How do I deal with stress before exams?",
    "What is a healthy breakfast?", "How can I be a better listener?",
    "Good morning! Any motivation for today?", "What do you like to do for fun?",
    "Can you help me write a short birthday message for my mom?", "How do I keep my desk organised?",
    "Should I learn Python or JavaScript first?", "How do I ask my boss for a raise?",
    "What is a fun activity for kids on a rainy day?", "How do I make a cup of good coffee?",
    "What are some tips for public speaking?", "How can I reduce screen time?",
    "Thank you for your help!", "Can you explain that more simply?", "What would you do with a free afternoon?",
    "How do I choose a good book to read?", "I lost my keys again. Any tips?",
    "What is a good way to start a conversation with a stranger?", "How do I cook rice?",
    "What should I name my bakery?", "Can you give me a quick recipe with eggs?",
    "How do I stop procrastinating?", "Which is better, tea or coffee?",
    "How can I help the environment at home?", "What should I do if I can't sleep?",
    "Can you recommend a board game for four people?", "How do I write a good email?",
    "I'm nervous about moving to a new school.", "What is the secret to a happy life?",
    "What can I do to feel less lonely?", "How do I teach my child to ride a bike?",
    "Give me a fun fact.", "How do I take care of a goldfish?", "How can I improve my handwriting?",
    "What are good questions to ask in an interview?", "How do I plan a picnic?",
    "Can you summarise what we talked about?", "What's your favourite season and why?",
    "How should I prepare for a long flight?", "How can I remember names better?",
    "Can you help me make a to-do list?", "What is a good way to relax after work?",
    "How do I start running?", "What should I say at a wedding toast?",
    "Can you tell me something that will make me smile?", "How do I handle an argument with a friend?",
    "Goodbye, and have a nice day!",
])

# --- multilingual (85): Chinese and other languages --------------------------------------------
add("multilingual", "factual", "zh", [
    "中国的首都是哪里？", "一年有多少天？", "水的化学式是什么？", "太阳系中最大的行星是哪一个？",
    "长城有多长？", "谁写了《红楼梦》？", "世界上最高的山是什么？", "熊猫主要吃什么？",
    "地球绕太阳转一圈需要多长时间？", "人体有多少块骨头？", "中国有多少个省？", "月亮为什么会发光？",
])
add("multilingual", "open", "zh", [
    "请写一首关于春天的短诗。", "给我讲一个关于小猫的故事。", "你好！今天过得怎么样？",
    "我应该怎样学好英语？", "请推荐一本好书。", "怎样才能睡得更好？", "请用三句话描述大海。",
    "从前有一个小村庄，", "请解释什么是人工智能。", "如何做西红柿炒鸡蛋？", "请给我一些学习的建议。",
    "用Python写一个计算阶乘的函数。", "请描述一下你最喜欢的季节。", "周末我们可以去哪里玩？",
    "请讲一个笑话。", "怎样保持健康？", "请把这句话翻译成英文：我喜欢读书。", "写一个关于友谊的故事。",
    "什么是光合作用？", "请写一封感谢信的开头。", "一只小狗在公园里", "请介绍一下北京。",
    "如何减轻压力？", "请给我的新猫取个名字。",
])
add("multilingual", "open", "es", [
    "¿Cuál es la capital de España?", "Escribe un cuento corto sobre un gato.", "Hola, ¿cómo estás?",
    "¿Qué es la fotosíntesis?", "Dame un consejo para aprender inglés.", "Había una vez un niño que",
    "¿Cuántos días tiene una semana?",
])
add("multilingual", "open", "fr", [
    "Quelle est la capitale de la France ?", "Raconte-moi une histoire sur un dragon.",
    "Bonjour, comment ça va ?", "Qu'est-ce que la gravité ?", "Il était une fois une petite fille qui",
    "Donne-moi une recette simple.", "Pourquoi le ciel est-il bleu ?",
])
add("multilingual", "open", "de", [
    "Was ist die Hauptstadt von Deutschland?", "Erzähl mir eine Geschichte über einen Hund.",
    "Guten Tag, wie geht es dir?", "Was ist ein Vulkan?", "Es war einmal ein König, der",
    "Wie lerne ich am besten?",
])
add("multilingual", "open", "ja", [
    "日本の首都はどこですか？", "猫についての短い物語を書いてください。", "こんにちは、お元気ですか？",
    "富士山の高さはどれくらいですか？", "むかしむかし、あるところに",
])
add("multilingual", "open", "ru", [
    "Какая столица России?", "Расскажи сказку о лисе.", "Привет, как дела?", "Что такое атом?",
])
add("multilingual", "open", "pt", [
    "Qual é a capital do Brasil?", "Escreva uma história sobre o mar.", "Olá, tudo bem?",
])
add("multilingual", "open", "it", [
    "Qual è la capitale d'Italia?", "Scrivi una poesia sulla luna.", "Ciao, come stai?",
])
add("multilingual", "open", "ko", ["한국의 수도는 어디입니까?", "고양이에 대한 이야기를 써 주세요.", "안녕하세요, 잘 지내세요?"])
add("multilingual", "open", "ar", ["ما هي عاصمة مصر؟", "اكتب قصة قصيرة عن قطة."])
add("multilingual", "open", "hi", ["भारत की राजधानी क्या है?", "एक छोटी कहानी लिखिए।"])
add("multilingual", "open", "tr", ["Türkiye'nin başkenti neresidir?", "Bana bir masal anlat."])
add("multilingual", "open", "nl", ["Wat is de hoofdstad van Nederland?", "Vertel me een verhaal over een fiets."])
add("multilingual", "open", "vi", ["Thủ đô của Việt Nam là gì?"])
add("multilingual", "open", "pl", ["Jaka jest stolica Polski?"])

# --- arithmetic (80): operands from fixed formulas ----------------------------------------------
arith = []
for i in range(20):
    a, b = 7 + 13 * i % 89, 3 + 29 * i % 71
    arith.append(f"What is {a} + {b}?")
for i in range(15):
    a, b = 50 + 37 * i % 150, 4 + 17 * i % 45
    arith.append(f"What is {a} - {b}?")
for i in range(15):
    a, b = 2 + 5 * i % 19, 3 + 7 * i % 11
    arith.append(f"What is {a} times {b}?")
for i in range(10):
    b = 2 + i % 9
    a = b * (3 + 11 * i % 17)
    arith.append(f"What is {a} divided by {b}?")
for i in range(5):
    arith.append(f"{12 + 9 * i} + {31 + 4 * i} =")
for i in range(5):
    arith.append(f"Compute {3 + i} * {8 + 3 * i} - {5 + 2 * i}.")
add("arithmetic", "arithmetic", "en", arith)
add("arithmetic", "reasoning", "en", [
    "If I have 3 apples and buy 5 more, how many apples do I have?",
    "A train travels 60 km in one hour. How far does it go in 3 hours?",
    "Tom is 8 years old. His sister is twice his age. How old is she?",
    "A shop sells pens at 2 dollars each. How much do 7 pens cost?",
    "There are 24 students and 4 tables. How many students sit at each table?",
    "What is half of 150?", "What is 10 percent of 250?", "What is 2 to the power of 8?",
    "If a week has 7 days, how many days are in 6 weeks?",
    "A rectangle is 5 cm wide and 9 cm long. What is its area?",
])

# --- identity (40): who are you, in several languages -----------------------------------------
add("identity", "identity", "en", [
    "Which model are you?", "Who trained you?", "What is your name?", "Which company created you?",
    "Are you ChatGPT?", "Are you Claude?", "Are you Llama?", "Are you Qwen?", "Are you DeepSeek?",
    "Are you Gemini?", "What version are you?", "Introduce yourself.", "Who are you?",
    "What kind of AI are you?", "Who is your developer?", "What are you built on?",
    "Which language model is answering me?", "Tell me about yourself and who made you.",
    "What is the name of the model I am talking to?", "Were you made by OpenAI, Anthropic, Meta, Google, Alibaba or DeepSeek?",
])
add("identity", "identity", "zh", [
    "你是谁？", "你叫什么名字？", "你是哪个公司开发的？", "你是ChatGPT吗？", "你是通义千问吗？",
    "你是DeepSeek吗？", "请介绍一下你自己。", "你的开发者是谁？", "你是什么模型？", "你是基于哪个模型的？",
])
add("identity", "identity", "es", ["¿Quién eres?", "¿Qué modelo eres?"])
add("identity", "identity", "fr", ["Qui es-tu ?", "Quel modèle es-tu ?"])
add("identity", "identity", "de", ["Wer bist du?", "Welches Modell bist du?"])
add("identity", "identity", "ja", ["あなたは誰ですか？", "あなたはどのモデルですか？"])
add("identity", "identity", "ru", ["Кто ты?", "Какая ты модель?"])

assert len(probes) >= 500, len(probes)
ids = [p["id"] for p in probes]
assert len(ids) == len(set(ids))
prompts = [p["prompt"] for p in probes]
dup = {p for p in prompts if prompts.count(p) > 1}
assert not dup, dup
header = {"probe_set": "modelprint-default-v2", "version": 2,
          "description": "Probe set v2 (issue 16): %d prompts in named subsets code, narrative, "
                         "factual, chat, multilingual, arithmetic, identity; select with "
                         "default-v2:SUBSET[,SUBSET...]." % len(probes)}
with open(OUT, "w", encoding="utf-8") as f:
    f.write(json.dumps(header, ensure_ascii=False) + "\n")
    for p in probes:
        q = dict(p)
        if q["max_new_tokens"] == 32:
            del q["max_new_tokens"]
        f.write(json.dumps(q, ensure_ascii=False, separators=(",", ":")) + "\n")
from collections import Counter
print(len(probes), dict(Counter(p["subset"] for p in probes)))
