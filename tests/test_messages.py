"""The message tables: every message in both languages, with the same placeholders, and
every key the code and templates use present."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from grader.i18n import LANGUAGES, Messages, language, table
from grader.results import IssueKind, Status

PACKAGE = Path(__file__).resolve().parent.parent / "grader"
HANGUL = re.compile("[\uac00-\ud7a3]")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_exists_in_every_language_with_the_same_placeholders() -> None:
    english = table("en")
    for lang in LANGUAGES:
        other = table(lang)
        assert set(other) == set(english), set(other) ^ set(english)
        for key, text in english.items():
            assert placeholders(other[key]) == placeholders(text), key


def test_the_korean_table_is_korean() -> None:
    english, korean = table("en"), table("ko")
    same = {key for key in english if english[key] == korean[key]}
    # Only symbols and names stay as they are (axis names, SHA-256, "epoch" as the lessons write it).
    assert same <= {"report.sha256", "figure.fitted_line.x", "figure.fitted_line.y", "figure.cost_over_epochs.x"}, same
    missing = [key for key, text in korean.items() if key not in same and not HANGUL.search(text)]
    assert missing == []


def test_every_key_the_code_uses_is_in_the_tables() -> None:
    used: set[str] = set()
    sources = [*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.j2")]
    for source in sources:
        text = source.read_text(encoding="utf-8")
        used |= {key for key in re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z_.]+)["']""", text) if not key.endswith(".")}
        used |= {f"{key}.{form}" for key in re.findall(r"""\bt\.count\(\s*["']([a-z_.]+)["']""", text)
                 for form in ("one", "other")}
    # Keys built from values: every status, issue kind and verdict.
    used |= {f"status.{s.value}" for s in Status} | {f"issue.{k.value}" for k in IssueKind}
    used |= {f"terminal.mark.{s.value}" for s in Status}
    for kind in ("cost_over_epochs", "fitted_line", "cost_over_w", "predictions"):
        used |= {f"figure.{kind}.{part}" for part in ("title", "x", "y", "alt")}
    assert len(used) > 60
    assert sorted(used - set(table("en"))) == []


def test_verdicts_the_batch_gives_all_have_words() -> None:
    source = (PACKAGE / "batch" / "records.py").read_text(encoding="utf-8")
    verdicts = set(re.findall(r'return \(?"([a-z ]+)"', source)) | {"no gradable file", "unreadable", "grader error"}
    verdicts |= {"crashed"}
    for verdict in verdicts:
        assert Messages("ko").has(f"verdict.{verdict}"), verdict


@pytest.mark.parametrize(("environ", "expected"), [
    ({}, "en"), ({"LANG": "ko_KR.UTF-8"}, "ko"), ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LC_ALL": "C.UTF-8", "LANG": "ko_KR.UTF-8"}, "en"), ({"LC_MESSAGES": "ko_KR"}, "ko"),
])
def test_the_language_defaults_from_the_locale(environ: dict[str, str], expected: str) -> None:
    assert language(None, environ) == expected
    assert language("ko", environ) == "ko"


def _lab_hints() -> set[str]:
    """Every hint a lab can give: its mistakes table and the hints written in its checks."""
    import ast
    import importlib

    from grader.labs import known_labs

    from grader.checks import RAISE_HINTS

    from grader.compare import A_LIST, A_NUMBER, NUMPY, ORDINARY, WRAPPED

    from grader.labs.checking import AUTOGRAD_GRAD

    found: set[str] = {*RAISE_HINTS.values(), NUMPY, ORDINARY, WRAPPED, A_NUMBER, A_LIST, AUTOGRAD_GRAD}  # PyTorch errors any lab's check may name; a numpy value
    for lab in known_labs():
        mistakes = importlib.import_module(f"grader.labs.{lab}.mistakes")
        found |= {v for k, v in vars(mistakes).items() if k.isupper() and isinstance(v, str)}
    for source in [*PACKAGE.glob("labs/*/checks/*.py"), PACKAGE / "compare.py"]:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "hint" and isinstance(node.value, (ast.Constant, ast.BinOp)):
                try:
                    found.add(ast.literal_eval(node.value))
                except ValueError:
                    pass
            # Shape hints: {(m,): "the prediction has shape (m,) ...", (): "..."}, keyed by shapes.
            if isinstance(node, ast.Dict) and node.keys and all(isinstance(k, ast.Tuple) for k in node.keys):
                found |= {v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)}
    return found


def test_every_lab_title_and_hint_reads_in_korean() -> None:
    from grader.i18n import lab_texts
    from grader.labs import known_labs, load_lab
    from grader.pipeline import lab_checks

    korean = Messages("ko")
    titles = {check.title for lab in known_labs() for check in lab_checks(lab)}
    titles |= {load_lab(lab).title for lab in known_labs()}  # (`grade labs` shows them)
    hints = _lab_hints()
    assert len(titles) > 30 and len(hints) > 50
    for english in sorted(titles):
        assert HANGUL.search(korean.title(english)), f"no Korean title for {english!r}"
    for english in sorted(hints):
        translated = korean.hint(english)
        assert HANGUL.search(translated), f"no Korean hint for {english!r}"
        assert re.findall(r"\d+(?:\.\d+)?", english) == re.findall(r"\d+(?:\.\d+)?", translated) or \
            set(re.findall(r"\d+(?:\.\d+)?", english)) <= set(re.findall(r"\d+(?:\.\d+)?", translated)), english
    # Nothing in the catalogue that no lab says any more.
    catalogue = lab_texts("ko")
    assert set(catalogue["titles"]) <= titles
    assert set(catalogue["hints"]) <= {korean_key for korean_key in (Messages("en").hint(h) for h in hints)}
    assert Messages("en").title("H(x)") == "H(x)"  # English: the lab's own words
    # Hints a check computes, read through the [details] patterns.
    for computed in ("dW must have the shape of W, (1,): reshape it, e.g. .reshape(1)",
                     "return b with shape (1,) as created by torch.zeros(1)"):
        assert HANGUL.search(korean.hint(computed)), computed


def test_every_pattern_of_computed_messages_has_korean_with_the_same_placeholders() -> None:
    """`[details]`: each English pattern parses, and its Korean is Korean with the same parts."""
    import tomllib

    from grader.i18n import details

    patterns = tomllib.loads((PACKAGE / "messages/ko_labs.toml").read_text(encoding="utf-8"))["details"]
    assert len(patterns) > 100
    for english, korean in patterns.items():
        assert placeholders(english) == placeholders(korean), english
        words = re.findall(r"[A-Za-z_]+", re.sub(r"\{\w+\}", " ", korean))  # no Hangul: a reordering of code
        assert HANGUL.search(korean) or set(words) <= set(re.findall(r"[A-Za-z_]+", english)), english
    assert len(details("ko").patterns) + len(details("ko").exact) == len(patterns)


@pytest.mark.parametrize("english, korean", [
    # a whole comparison, its subject built from three parts
    ("W in history, epochs 0..25 with lr 0.02, 25 epochs on other data is wrong (mismatched elements 25 / 26, "
     "max absolute difference 0.678886, max relative difference 0.667)",
     "lr 0.02, epoch 25번으로 다른 데이터에서 history의 W (epoch 0..25): 기대한 값과 다릅니다 "
     "(다른 원소 25 / 26개, 최대 절대 차이 0.678886, 최대 상대 차이 0.667)"),
    ("b after step 1 from W = b = 0 (lesson 002) is wrong (off by 0.04)",
     "수업 002처럼 W = b = 0부터 시작해 1단계 뒤의 b: 기대한 값과 다릅니다 (차이 0.04)"),
    ("hypothesis on 7 points with W -0.8, b 2.5 has shape (7,), expected (7, 1)",
     "W -0.8, b 2.5인 점 7개에서 hypothesis: 모양이 (7,)입니다 (기대한 모양 (7, 1))"),
    # values: the numbers stay, the words around them change
    ("[0.8977, 0.5568, 0.8644, 2.4158, 4.1346, 2.9446, ... 1000 values]  shape (1000, 1)",
     "[0.8977, 0.5568, 0.8644, 2.4158, 4.1346, 2.9446, ... 값 1000개]  모양 (1000, 1)"),
    ("no gradient for it after backward() (the cost came back as 0.6857 (0-dim tensor))",
     "backward() 뒤에도 기울기가 없음 (돌아온 비용: 0.6857 (0차원 텐서))"),
    # Python's own words stay as Python said them
    ("train raised RuntimeError: grad can be implicitly created only for scalar outputs",
     "train에서 예외 발생: RuntimeError: grad can be implicitly created only for scalar outputs"),
    ("the process ended while the grader called its functions (exit status 137)",
     "채점기가 함수를 호출하는 중에 프로세스가 끝났습니다 (종료 상태 137)"),
    # which file was graded, and a check that passed
    ("lab2.py differs from the released stub; lab2.ipynb does not",
     "lab2.py는 배포된 실습 파일과 다르고 lab2.ipynb는 그대로입니다"),
    ("my lab2.py was given", "my lab2.py를 지정했습니다"),
    ("passed", "통과"),
    # a batch's entry problems, named as the class folder shows them
    ("cannot read big.zip: the zip is too large to unpack", "big.zip을 읽을 수 없습니다: zip 파일이 너무 커서 풀 수 없습니다"),
    ("could not write the student's files: cannot write out/students/frank: it exists and is not a folder",
     "학생의 파일을 쓸 수 없습니다: out/students/frank에 쓸 수 없습니다: 이미 있는데 폴더가 아닙니다"),
    # grade's one line when the grader failed: every word read, "and 13 more" too
    ("the grader itself failed in checks a.b, c.d, e.f and 13 more: grader error, not your code: the sandboxed "
     "Python ended before the submission's code started (exit status 1); limits set too low (--processes, "
     "--open-files, --memory) can cause this; these points could not be graded",
     "채점기 자체가 검사 a.b, c.d, e.f 외 13개에서 실패했습니다: 채점기 오류입니다(여러분 코드의 문제가 아닙니다): "
     "샌드박스 안의 Python이 제출한 코드를 실행하기 전에 끝났습니다 (종료 상태 1). 한도(--processes, --open-files, "
     "--memory)를 너무 낮게 잡으면 이럴 수 있습니다. 이 점수는 채점하지 못했습니다"),
    ("the sandboxed Python did not reach the submission's code within 60 s (a machine too busy to start it, or "
     "the grader's own failure)",
     "샌드박스 안의 Python이 60초 안에 제출한 코드까지 가지 못했습니다 (컴퓨터가 너무 바빠 시작하지 못했거나 채점기 자체가 "
     "실패했습니다)"),
    # "a float" is not 실수 (also "a mistake", which the same report says everywhere: "W: 실수 하나입니다")
    ("W after training on lesson 002's data with the default lr and epochs is a float, expected a tensor of shape (1,)",
     "기본 lr과 epochs로 수업 002의 데이터에서 학습한 뒤의 W: 파이썬 float 값입니다 (기대한 것: 모양이 (1,)인 텐서)"),
    # a hint a check computes (it stayed English in Korean reports)
    ("create nn.Linear(3, 1) first in __init__, before anything else that draws random numbers, so that "
     "torch.manual_seed gives it the same weights as the lesson",
     "__init__에서 다른 난수를 뽑기 전에 nn.Linear(3, 1)을 먼저 만드세요. 그래야 torch.manual_seed가 수업과 같은 가중치를 줍니다"),
    # code is code
    ("F.mse_loss(model(x), y)", "F.mse_loss(model(x), y)"),
    ("[[0.0739], [0.5891], [1.1044]]", "[[0.0739], [0.5891], [1.1044]]"),
])
def test_computed_messages_read_in_korean(english: str, korean: str) -> None:
    assert Messages("ko").detail(english) == korean
    assert Messages("en").detail(english) == english


def test_a_message_no_pattern_reads_stays_english_whole() -> None:
    """No half-translated sentences: a part that reads nowhere leaves the whole text in English."""
    from grader.i18n import translate_detail

    for english in ["IndexError: list index out of range",
                    "hypothesis on the moon is wrong (off by 1)",  # 'the moon' is no data the labs name
                    "mse_cost has shape some words here, expected (3, 1)"]:  # a shape is code, not words
        assert translate_detail("ko", english) is None, english
        assert Messages("ko").detail(english) == english


@pytest.mark.parametrize(("written", "read"), [
    ("mse_cost을(를) 찾지 못했습니다", "mse_cost를 찾지 못했습니다"),  # 코스트
    ("train을(를) 찾지 못했습니다", "train을 찾지 못했습니다"),  # 트레인
    ("train_step이(가) 사용하는", "train_step이 사용하는"),  # 스텝
    ("gradient이(가) 여전히", "gradient가 여전히"),  # 그레이디언트
    ("LinearRegressionModel은(는)", "LinearRegressionModel은"),  # 모델
    ("optimizer은(는)", "optimizer는"),  # 옵티마이저
    ("lab2.ipynb을(를) 지정했습니다", "lab2.ipynb를 지정했습니다"),  # 비
    ("lr을(를)", "lr을"),  # 엘알
    ("dW은(는) W과(와) 같은 모양", "dW는 W와 같은 모양"),  # 더블유
    ("기대값 0.0933을(를)", "기대값 0.0933을"),  # 삼
    ("모양 (3, 2)이(가)", "모양 (3, 2)가"),  # 이
    ('"수업 값"을(를) 보세요', '"수업 값"을 보세요'),
    ("셀 9이(가) 다시", "셀 9가 다시"),
    ("torch.mean(으)로 계산", "torch.mean으로 계산"),  # 민
    ("model(으)로", "model로"),  # 모델: ㄹ takes 로
    (".reshape(1)(으)로 바꾸세요", ".reshape(1)로 바꾸세요"),  # 일
    ("0(으)로 시작", "0으로 시작"),  # 영
    ("…을(를)", "…을(를)"),  # nothing to read: both stay
])
def test_korean_particles_fit_the_word_before_them(written: str, read: str) -> None:
    """A review: "lab2.ipynb을(를) 지정했습니다", "gradient이(가)" everywhere; the particle is picked
    from how the word before it reads."""
    from grader.korean import particles

    assert particles(written) == read


def test_korean_reports_pick_their_particles() -> None:
    """Through the tables: a message, a computed detail and a hint in Korean carry one particle, not both."""
    t = Messages("ko")
    assert t.detail("my lab2.py was given") == "my lab2.py를 지정했습니다"
    assert t.detail("not implemented: gradient still raises NotImplementedError") == (
        "아직 구현하지 않았습니다: gradient가 여전히 NotImplementedError를 냅니다")
    said = t("report.replaced", name="train", places="셀 6", place="셀 9")
    assert said.startswith("train은 셀 6에 정의되고") and "(" not in said.split("마지막")[0]
