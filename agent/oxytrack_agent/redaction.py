"""Title redaction: what a window's title becomes before it is stored or sent.

One implementation for both sides: the agent applies it to every sample
before the span builder sees it (so the original title never reaches the
queue, the logs or the server), and the server's policy form imports it to
preview what a title becomes. Standard library only, so the server can
import it without loading anything of the agent's platform code.

A rule (`redact_rules` in the policy) matches on the app name, the title or
both (regular expressions, case ignored, searched anywhere); the first rule
that matches replaces the whole title by the app name or by the rule's
category. Browsers (`browser_sites`) keep a URL's host and drop its path,
query and fragment. The built-in deny-list is `DEFAULT_RULES`.

ReDoS: Python's `re` has no timeout, so a rule is refused unless it is short
(`MAX_PATTERN_CHARS`), has no back-reference and no repeat nested in an
unbounded repeat (`(a+)+`, `(x*y)*`), and no more than
`MAX_UNBOUNDED_REPEATS` unbounded repeats; there are at most `MAX_RULES`
rules, and titles are cut to 1,024 characters before any rule runs. The
server also times every rule on hostile inputs before it accepts it.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: Bounds on what a super-admin may configure (see the module docstring).
MAX_RULES = 64
MAX_PATTERN_CHARS = 300
MAX_NAME_CHARS = 80
MAX_UNBOUNDED_REPEATS = 3
#: Bounds on the text the rules run on (the server's limits, DESIGN.md).
MAX_APP = 255
MAX_TITLE = 1024
#: What an excluded app's windows become: the time stays, the name does not.
PRIVATE_MARKER = "(privé)"

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

#: Process or window-class names of web browsers (".exe" stripped, case ignored).
BROWSER_APPS = re.compile(
    r"(?i)^(?:chrome|google-chrome(?:-stable|-beta)?|chromium(?:-browser)?|msedge|"
    r"microsoft-edge(?:-stable|-beta|-dev)?|firefox(?:-esr)?|navigator|brave(?:-browser)?|"
    r"opera|vivaldi(?:-stable)?|safari|iexplore|arc|librewolf|waterfox|yandex)$"
)
# A URL with a scheme, or a bare host (two labels or more) followed by a path,
# query or fragment: group 1 is the host that stays.
_URL = re.compile(
    r"(?i)\b(?:[a-z][a-z0-9+.-]{1,15}://)"
    r"(?:[^\s/?#@]{1,256}@)?([^\s/?#:]{1,253})(?::\d{1,5})?[^\s]{0,2048}"
    r"|\b((?:[a-z0-9-]{1,63}\.){1,10}[a-z]{2,24})(?::\d{1,5})?[/?#][^\s]{0,2048}"
)

#: The built-in deny-list (the policy's default `redact_rules`), French first.
#: Each: name, apps and/or title (regex), replace_with "app" | "category", category.
DEFAULT_RULES: tuple[dict[str, str], ...] = (
    {
        "name": "Logiciels de soins",
        # Names the programs start with (ApologicDomicile.exe, Ximi, …).
        "apps": r"^(?:apologic|arche|mc2|ximi|perceval|domilink|cegi|alfa ?domicile|medisys|"
        r"evolucare|netsoins|hellodoc|weda|medistory)",
        "replace_with": "category",
        "category": "Logiciel de soins",
    },
    {
        "name": "Logiciels de soins (titres)",
        "title": r"\b(?:apologic|arche ?mc2|ximi|perceval|domilink|cegi|alfa ?domicile|medisys|"
        r"evolucare|netsoins|hellodoc|weda|doctolib|ameli|mon espace sant[ée]|mss?ant[ée]|dmp)\b",
        "replace_with": "category",
        "category": "Logiciel de soins",
    },
    {
        "name": "Messagerie (applications)",
        "apps": r"^(?:outlook|olk|hxoutlook|thunderbird|evolution|mailspring|kmail|geary|"
        r"betterbird)(?:\.exe)?$",
        "replace_with": "category",
        "category": "Messagerie",
    },
    {
        "name": "Messagerie (titres, aussi en webmail)",
        # (\s, not a space: the policy page trims the ends of each value)
        "title": r"\s-\sMessage \((?:HTML|Texte brut|Texte enrichi|Plain Text|Rich Text)\)$"
        r"|\s[-—]\sOutlook(?:\s[-—]\s|$)|\s[-—]\s(?:Mozilla )?Thunderbird$"
        r"|\bBo[iî]te de r[ée]ception\b|\bInbox\b|\bGmail\b|\bRoundcube\b|\bZimbra\b",
        "replace_with": "category",
        "category": "Messagerie",
    },
    {
        "name": "Gestionnaires de mots de passe",
        "apps": r"keepass|bitwarden|1password|dashlane|lastpass|enpass|nordpass|protonpass|"
        r"proton pass|roboform|keeper",
        "replace_with": "category",
        "category": "Gestionnaire de mots de passe",
    },
    {
        "name": "Gestionnaires de mots de passe (titres)",
        "title": r"\b(?:keepass(?:xc)?|bitwarden|1password|dashlane|lastpass|enpass|nordpass|"
        r"proton pass)\b|\.kdbx\b",
        "replace_with": "category",
        "category": "Gestionnaire de mots de passe",
    },
    {
        "name": "Navigation privée",
        "title": r"InPrivate|Navigation priv[ée]e|Fen[êe]tre priv[ée]e|Incognito|"
        r"Navigation incognito|Private Browsing|Private Window",
        "replace_with": "category",
        "category": "Navigation privée",
    },
    {
        "name": "Banque",
        "title": r"\bbanque\b|\bbank\b|cr[ée]dit agricole|\bBNP\b|paribas|"
        r"soci[ée]t[ée] g[ée]n[ée]rale|\bLCL\b|banque postale|caisse d'[ée]pargne|"
        r"\bCIC\b|boursorama|cr[ée]dit mutuel|\bHSBC\b|fortuneo|hello ?bank|monabanq|"
        r"\bqonto\b|revolut|\bN26\b|banque populaire|\bBRED\b",
        "replace_with": "category",
        "category": "Banque",
    },
    {
        "name": "Dossiers de patients",
        # Whole words, "_" counting as a separator (prescription_Moreau.pdf).
        "title": r"(?<![^\W_])(?:patients?|patientes?|dossiers?|ordonnances?|prescriptions?|"
        r"b[ée]n[ée]ficiaires?)(?![^\W_])",
        "replace_with": "app",
    },
    {
        # NIR: sex, year, month (or 20-99), department (2A/2B too), commune,
        # order, optional key; with or without spaces, dots or dashes.
        "name": "Numéro de sécurité sociale",
        "title": r"\b[12][ .-]?\d{2}[ .-]?(?:0[1-9]|1[0-2]|[2-9]\d)[ .-]?(?:\d[ .-]?\d|2[AB])"
        r"(?:[ .-]?\d){6}(?:[ .-]?\d{2})?\b",
        "replace_with": "app",
    },
    {
        # A date next to "né(e)", "naissance" or "DDN"; or any full date of the
        # 1900s (a title of work seldom holds one; a birth date often does).
        "name": "Date de naissance",
        "title": r"\b(?:n[ée]e?|naissance|DDN)\b\W{0,5}(?:le\W{1,3})?"
        r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\b\d{1,2}[/.-]\d{1,2}[/.-]19\d{2}\b",
        "replace_with": "app",
    },
)


def N_(message: str) -> str:
    """Mark a message for the catalogues (the agent's and the server's); translated at use."""
    return message


class Word(str):
    """A translatable word used inside a RuleError message ("titre", "sans nom")."""

    __slots__ = ()


class RuleError(ValueError):
    """A rule that cannot be used; the message says which and why.

    `str()` is French (the agent's logs). The message is kept as a template
    (a French msgid with `{names}`) and its values, so that the server's
    policy form renders it in the admin's language: `render(gettext)`
    translates the template, the `Word` values and nested RuleErrors, and
    `describe` words a `re.error` value (the engine's English by default).
    """

    def __init__(self, template: str, /, **values: object) -> None:
        self.template = template
        self.values = values
        super().__init__(self.render(lambda message: message))

    def render(
        self, gettext: Callable[[str], str], describe: Callable[[re.error], str] = str
    ) -> str:
        """The message translated by `gettext`, regex errors worded by `describe`."""
        values = {
            key: value.render(gettext, describe)
            if isinstance(value, RuleError)
            else gettext(value)
            if isinstance(value, Word)
            else describe(value)
            if isinstance(value, re.error)
            else value
            for key, value in self.values.items()
        }
        return gettext(self.template).format(**values)


@dataclass(frozen=True)
class Rule:
    """One compiled redaction rule."""

    name: str
    apps: re.Pattern[str] | None
    title: re.Pattern[str] | None
    replace_with: str  # "app" | "category"
    category: str = ""

    def matches(self, app: str, title: str) -> bool:
        """Both given parts match (a missing part matches anything)."""
        if self.apps is not None and not self.apps.search(app):
            return False
        return not (self.title is not None and not self.title.search(title))

    def to_json(self) -> dict[str, str]:
        """The wire form (as in the policy)."""
        data = {"name": self.name}
        if self.apps is not None:
            data["apps"] = self.apps.pattern
        if self.title is not None:
            data["title"] = self.title.pattern
        data["replace_with"] = self.replace_with
        if self.replace_with == "category":
            data["category"] = self.category
        return data


def _sre_parser() -> Any:
    # The structure check reads the pattern with the parser `re` itself uses
    # (stdlib, private name since 3.11); without it the length bounds remain.
    try:
        return importlib.import_module("re._parser")
    except ImportError:  # pragma: no cover - other Python versions
        return None


_PARSER = _sre_parser()


def _repeats(parsed: Any) -> Iterable[tuple[int, Any]]:
    """(max count, body) of every repeat in a parsed pattern, outermost first."""
    for op, arg in parsed:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            _min, high, body = arg
            yield high, body
            yield from _repeats(body)
        elif name in ("SUBPATTERN",):
            yield from _repeats(arg[-1])
        elif name in ("BRANCH",):
            for branch in arg[1]:
                yield from _repeats(branch)
        elif name in ("ASSERT", "ASSERT_NOT", "ATOMIC_GROUP"):
            yield from _repeats(arg[-1] if isinstance(arg, tuple) else arg)
        elif name in ("GROUPREF", "GROUPREF_EXISTS"):
            raise RuleError(N_("référence arrière interdite"))


def _check_structure(pattern: str) -> None:
    if _PARSER is None:
        return
    parsed = _PARSER.parse(pattern)
    unbounded = _PARSER.MAXREPEAT
    count = 0
    for high, body in _repeats(parsed):
        if high == unbounded:
            count += 1
        inner = list(_repeats(body))
        if high > 1 and any(h > 1 and (h == unbounded or high == unbounded) for h, _ in inner):
            raise RuleError(N_("répétition imbriquée dans une répétition (risque de blocage)"))
    if count > MAX_UNBOUNDED_REPEATS:
        raise RuleError(
            N_("plus de {n} répétitions sans borne (*, +, {{n,}})"), n=MAX_UNBOUNDED_REPEATS
        )


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A rule's regex, compiled with case ignored, or RuleError saying why not."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise RuleError(N_("expression trop longue ({n} caractères au plus)"), n=MAX_PATTERN_CHARS)
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise RuleError(N_("expression régulière invalide : {error}"), error=exc) from None
    _check_structure(pattern)
    return compiled


def parse_rule(data: Mapping[str, Any]) -> Rule:
    """One rule from its wire form, checked; RuleError names the rule and the problem."""
    name = str(data.get("name") or "").strip()
    label = name or Word(N_("sans nom"))
    if not name:
        raise RuleError(N_("une règle n'a pas de nom"))
    if len(name) > MAX_NAME_CHARS:
        raise RuleError(
            N_("« {label}… » : nom trop long ({n} caractères au plus)"),
            label=label[:40],
            n=MAX_NAME_CHARS,
        )
    parts: dict[str, re.Pattern[str] | None] = {}
    for key in ("apps", "title"):
        value = data.get(key)
        if value in (None, ""):
            parts[key] = None
            continue
        try:
            parts[key] = compile_pattern(str(value))
        except RuleError as exc:
            where = Word(N_("applications") if key == "apps" else N_("titre"))
            raise RuleError(
                N_("« {label} » ({where}) : {error}"), label=label, where=where, error=exc
            ) from None
    if parts["apps"] is None and parts["title"] is None:
        raise RuleError(
            N_("« {label} » : indiquez au moins une expression (applications ou titre)"),
            label=label,
        )
    replace_with = str(data.get("replace_with") or ("category" if data.get("category") else "app"))
    if replace_with not in ("app", "category"):
        raise RuleError(N_("« {label} » : replace_with vaut « app » ou « category »"), label=label)
    category = str(data.get("category") or "").strip()
    if replace_with == "category" and not category:
        raise RuleError(N_("« {label} » : la catégorie est vide"), label=label)
    if len(category) > MAX_NAME_CHARS:
        raise RuleError(
            N_("« {label} » : catégorie trop longue ({n} caractères au plus)"),
            label=label,
            n=MAX_NAME_CHARS,
        )
    return Rule(name, parts["apps"], parts["title"], replace_with, category)


def parse_rules(data: Iterable[Mapping[str, Any]]) -> tuple[Rule, ...]:
    """Every rule checked (RuleError at the first bad one), at most MAX_RULES."""
    items = list(data)
    if len(items) > MAX_RULES:
        raise RuleError(N_("au plus {n} règles"), n=MAX_RULES)
    return tuple(parse_rule(item) for item in items)


def clean(text: str, limit: int) -> str:
    """Without control characters (the server would drop them) and cut to `limit`."""
    return _CONTROL.sub("", text)[:limit]


def strip_exe(name: str) -> str:
    """ "Firefox", "firefox.exe" and "firefox" name the same app on every OS."""
    return name[:-4] if name.lower().endswith(".exe") else name


def is_browser(app: str) -> bool:
    """Whether `app` (process or window-class name) is a web browser."""
    return BROWSER_APPS.match(strip_exe(app)) is not None


def keep_sites(title: str) -> str:
    """Every URL-like text in `title` reduced to its host name."""
    return _URL.sub(lambda m: m.group(1) or m.group(2), title)


@dataclass(frozen=True)
class Redactor:
    """The privacy part of a policy, compiled: turns (app, title) into what may be stored."""

    titles: str = "full"
    exclude_apps: frozenset[str] = frozenset()
    legacy: tuple[re.Pattern[str], ...] = ()
    rules: tuple[Rule, ...] = ()
    browser_sites: bool = True

    @classmethod
    def from_policy(cls, data: Mapping[str, Any], *, strict: bool = False) -> Redactor:
        """From the policy's JSON. Lenient by default (the agent: a bad rule is
        skipped, reported in `Redactor.problems`); `strict` raises RuleError."""
        legacy: list[re.Pattern[str]] = []
        for pattern in data.get("redact") or ():
            try:
                legacy.append(re.compile(str(pattern)))
            except re.error:
                if strict:
                    raise RuleError(
                        N_("expression régulière invalide : {error}"), error=pattern
                    ) from None
        raw_rules = data.get("redact_rules")
        items = list(DEFAULT_RULES if raw_rules is None else raw_rules)[:MAX_RULES]
        rules: list[Rule] = []
        for item in items:
            try:
                rules.append(parse_rule(item if isinstance(item, Mapping) else {}))
            except RuleError:
                if strict:
                    raise
        titles = str(data.get("titles", "full"))
        return cls(
            titles=titles if titles in ("full", "app_only") else "app_only",
            exclude_apps=frozenset(
                strip_exe(str(a)).casefold() for a in data.get("exclude_apps") or ()
            ),
            legacy=tuple(legacy),
            rules=tuple(rules),
            browser_sites=bool(data.get("browser_sites", True)),
        )

    def apply(self, app: str, title: str) -> tuple[str, str]:
        """(app, title) as they may be stored: excluded, app-only, or redacted."""
        app, title, _why = self.explain(app, title)
        return app, title

    def explain(self, app: str, title: str) -> tuple[str, str, str]:
        """(app, title, why) as stored; `why` names the rule or step that applied, or ""."""
        app = clean(app, MAX_APP) or "unknown"
        if strip_exe(app).casefold() in self.exclude_apps:
            return PRIVATE_MARKER, PRIVATE_MARKER, "exclude_apps"
        if self.titles == "app_only":
            return app, "", "app_only"
        # Cut first: every rule runs on at most MAX_TITLE characters.
        title = clean(title, MAX_TITLE)
        why = ""
        if self.browser_sites and is_browser(app):
            sites = keep_sites(title)
            why, title = ("browser_sites" if sites != title else ""), sites
        for rule in self.rules:
            if rule.matches(app, title):
                return (
                    app,
                    (strip_exe(app) if rule.replace_with == "app" else rule.category),
                    rule.name,
                )
        if any(p.search(title) for p in self.legacy):
            return app, app, "redact"
        return app, title, why


def default_rules_json() -> list[dict[str, str]]:
    """The built-in deny-list in its wire form (a fresh copy)."""
    return [dict(rule) for rule in DEFAULT_RULES]


# --- the text form the policy page edits ------------------------------------------------

_KEYS = {
    "apps": "apps",
    "applications": "apps",
    "titre": "title",
    "title": "title",
    "catégorie": "category",
    "categorie": "category",
    "category": "category",
}


def rules_to_text(rules: Iterable[Mapping[str, Any]]) -> str:
    """The rules in the policy page's text form (see `rules_from_text`)."""
    blocks = []
    for rule in rules:
        lines = [f"[{rule.get('name', '')}]"]
        if rule.get("apps"):
            lines.append(f"apps = {rule['apps']}")
        if rule.get("title"):
            lines.append(f"titre = {rule['title']}")
        if (rule.get("replace_with") or "app") == "category":
            lines.append(f"catégorie = {rule.get('category', '')}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def rules_from_text(text: str) -> list[dict[str, str]]:
    """Parse the text form; RuleError (with the line number) on a mistake.

    One block per rule::

        [Banque]                 the rule's name
        apps = regex             optional: the app (process) name
        titre = regex            optional: the title (one of the two at least)
        catégorie = Banque       optional: replace by this word (else by the app name)

    Lines starting with `#` are comments. Everything after `=` is the value,
    spaces around it trimmed, so a regex may hold any character.
    """
    rules: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = {"name": line[1:-1].strip()}
            rules.append(current)
            continue
        key, sep, value = line.partition("=")
        field = _KEYS.get(key.strip().casefold())
        if not sep or field is None:
            raise RuleError(
                N_(
                    "ligne {number} : attendu « [nom] », « apps = … », « titre = … » "
                    "ou « catégorie = … »"
                ),
                number=number,
            )
        if current is None:
            raise RuleError(
                N_("ligne {number} : commencez la règle par son nom entre crochets"), number=number
            )
        current[field] = value.strip()
    for rule in rules:
        rule["replace_with"] = "category" if rule.get("category") else "app"
    parse_rules(rules)
    return rules
