"""Help texts: the overview of every command, and per command its usage, what it does, flags and examples.

Plain text with Slack mrkdwn / Markdown backticks, so the same text reads well in Slack and in a PR comment.
Every example here is a command the grammar accepts (the tests parse them all).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.flux_settings import CONTROLLERS, SETTINGS
from bot.grammar.foreign_commands import foreign_command
from bot.grammar.help_fleet_topics import FLEET_NOTES
from bot.grammar.help_topics import SECRETS, TOPICS
from bot.grammar.vocabulary import COMMANDS, GROUPS, NESTED, resolve
from bot.usage import UsageError, code, shown, typo_of

_GROUP_TEXT = {
    "config": "Flux configurations: a source (git, bucket, Azure Blob or OCI) and its kustomizations.",
    "kustomization": "The kustomizations of one Flux configuration.",
    "extension": "The microsoft.flux cluster extension: the Flux controllers themselves.",
    "deployed-object": "The Flux objects a configuration deployed, as Azure reports them.",
    "key": "Deploy keys fluxops made for git sources: rotation without downtime, and which keys exist.",
    "fleet": "One change rolled out over every cluster a selector matches, in waves: a canary first, halting on "
    "the first failure.",
    "v1": "Retired Flux v1 configurations (sourceControlConfigurations): list them, and migrate each to Flux v2.",
}
#: what a group's help says below its subcommands
_GROUP_NOTES: dict[str, tuple[str, ...]] = {"fleet": FLEET_NOTES}
#: special topics that are not commands
EXTRA_TOPICS = ("extension settings",)


def usage_of(topic: str | None) -> str:
    """The usage line of a command ("" for groups and unknown topics)."""
    found = TOPICS.get(topic or "")
    return found.usage if found else ""


def _overview() -> str:
    lines = [
        "*fluxops* runs Flux v2 on AKS and Azure Arc clusters. Flags follow `az k8s-configuration flux` and "
        "`az k8s-extension`.",
        "",
    ]
    lines += [f"• {code('/flux ' + name)} — {TOPICS[name].summary}" for name in COMMANDS]
    lines += [
        "",
        "`/flux help COMMAND` (or `/flux COMMAND --help`) shows a command's flags and examples.",
        SECRETS,
    ]
    return "\n".join(lines)


def _group(group: str) -> str:
    lines = [f"*`/flux {group}`* — {_GROUP_TEXT[group]}", ""]
    for sub in GROUPS[group]:
        path = f"{group} {sub}"
        path = f"{path} {NESTED[path][0]}" if path in NESTED else path
        lines.append(f"• {code(TOPICS[path].usage)}\n   {TOPICS[path].summary}")
    notes = _GROUP_NOTES.get(group, ())
    if notes:
        lines += ["", *notes]
    lines += ["", f"`/flux help {group} SUBCOMMAND` shows its flags and examples."]
    return "\n".join(lines)


def _command(name: str) -> str:
    topic = TOPICS[name]
    lines = [f"*`/flux {name}`* — {topic.summary}", f"Usage: {code(topic.usage)}", "", topic.description]
    if topic.flags:
        lines += ["", "Flags:"]
        lines += [f"• {code(flag)} — {text}" for flag, text in topic.flags]
    lines += ["", "Examples:" if len(topic.examples) > 1 else "Example:"]
    lines += [code(example) for example in topic.examples]
    return "\n".join(lines)


def _settings() -> str:
    lines = [
        "*microsoft.flux settings* for `/flux extension create|update --config KEY=VALUE`:",
        "`CONTROLLER` is one of source-, helm-, kustomize-, notification-, image-automation- and "
        "image-reflector-controller.",
        "",
        "• `CONTROLLER.enabled=true|false` — run the controller (image-* default false, others true)",
        "• `CONTROLLER.log-level=info|error|debug` — log level",
        "• `CONTROLLER.resources.limits.memory=2Gi`, `...requests.memory=300Mi` — memory",
        "• `CONTROLLER.resources.limits.cpu=2000m`, `...requests.cpu=500m` — CPU",
    ]
    per_controller = (".enabled", ".log-level", ".memory", ".cpu")
    for key, setting in SETTINGS.items():
        if key.startswith(tuple(f"{c}." for c in CONTROLLERS)) and key.endswith(per_controller):
            continue
        lines.append(f"• {code(f'{key}={setting.example}')} — {setting.description} ({setting.kind})")
    return "\n".join(lines)


def topic_of(words: Sequence[str]) -> str | None:
    """The help topic that ``words`` name (None for the overview); UsageError for an unknown topic."""
    if not words:
        return None
    text = " ".join(w.lower() for w in words)
    if text in EXTRA_TOPICS or text in ("settings", "extension config", "config settings"):
        return "extension settings"
    try:
        path, used = resolve(words, allow_group=True)
    except UsageError as err:
        # another tool's command first, as the parser does: `deploy` is spelled like `deployed-object` but
        # asks how to deploy
        foreign = foreign_command(words)
        near = None if foreign else typo_of(text, [*COMMANDS, *GROUPS, *EXTRA_TOPICS])
        hint = (
            foreign.hint
            if foreign
            else f"Did you mean {code(near)}?"
            if near
            else err.hint or "`/flux help` lists the commands."
        )
        raise UsageError(f"There is no help on {shown(' '.join(words))}.", hint=hint, topic="help") from None
    if used < len(words):
        raise UsageError(
            f"There is no help on {shown(' '.join(words))}.",
            hint=f"Try {code('/flux help ' + path)}.",
            topic="help",
        )
    return path


def help_text(topic: str | None) -> str:
    """The help for ``topic`` ("config create", "config", "extension settings"), or the overview for None.

    Unknown topics get the overview; ``topic_of`` is how typed words become a topic.
    """
    if topic is None:
        return _overview()
    name = topic.strip().lower()
    if name == "extension settings":
        return _settings()
    if name in GROUPS:
        return _group(name)
    if name in TOPICS:
        return _command(name)
    try:
        resolved = topic_of(name.split())
    except UsageError:
        return _overview()
    return help_text(resolved) if resolved is not None and resolved != name else _overview()
