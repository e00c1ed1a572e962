"""The `fluxops` command line: the sandbox (`sandbox up | demo | arm`) and `chat`, its Slack client."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

import yaml

from cli.banner import banner, cluster_lines
from sandbox.arm.app import EmulatorConfig
from sandbox.runtime import Endpoints, Sandbox, SandboxOptions


def _options(args: argparse.Namespace) -> SandboxOptions:
    faults: list[dict[str, Any]] = []
    if args.faults:
        loaded = yaml.safe_load(Path(args.faults).read_text())
        faults = list((loaded or {}).get("faults", []))
    return SandboxOptions(
        state_dir=Path(args.state_dir) if args.state_dir else None,
        fleet=args.fleet,
        step_seconds=args.step_seconds,
        emulator=EmulatorConfig(
            time_scale=args.time_scale,
            operation_seconds=args.operation_seconds,
            throttling=not args.no_throttle,
            faults=faults,
        ),
    )


async def _serve(options: SandboxOptions, host: str, port: int, announce: Any) -> None:
    sandbox = Sandbox(options)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:  # a start that fails part-way stops what it had started
        endpoints = await sandbox.start(host, port)
        announce(sandbox, endpoints)
        await stop.wait()
    finally:
        await sandbox.stop()


def _announce_json(sandbox: Sandbox, endpoints: Endpoints) -> None:
    line = {
        "url": endpoints.arm_url,
        "ca_file": str(endpoints.ca_file),
        "subscription_id": endpoints.subscription_id,
        "kube_api_url": endpoints.kube_api_url,
    }
    print(json.dumps(line), flush=True)


def _announce_human(sandbox: Sandbox, endpoints: Endpoints) -> None:
    print("fluxops sandbox is up (Ctrl-C stops it)\n")
    print(f"  ARM emulator   {endpoints.arm_url}   (HTTPS, CA {endpoints.ca_file})")
    print(f"  Kubernetes API {endpoints.kube_api_url}/clusters/<slug>   (HTTPS, same CA; kubeconfigs from ARM)")
    print(f"  subscription   {endpoints.subscription_id}\n")
    print("Clusters:")
    print("\n".join(cluster_lines(sandbox.world)))
    print("\nPoint fluxops (or any Azure SDK client) at it:")
    print(f"  export AZURE_ARM_ENDPOINT={endpoints.arm_url}")
    print(f"  export AZURE_CA_BUNDLE={endpoints.ca_file}")
    print(f"  export AZURE_SUBSCRIPTION_IDS={endpoints.subscription_id}")
    print("\nThe tutorial, end to end:  fluxops sandbox demo", flush=True)


async def _serve_stack(options: SandboxOptions, web_port: int, policy: str | None = None) -> int:
    from sandbox.policy import SANDBOX_POLICY
    from sandbox.stack import Stack, StackOptions, default_discovery_file

    discovery = default_discovery_file()
    stack = Stack(
        StackOptions(sandbox=options, web_port=web_port, discovery_file=discovery, policy=policy or SANDBOX_POLICY)
    )
    print("starting: redis-server, ARM emulator, fake Slack, fluxops web + worker + beat ...", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:  # a start that fails part-way stops what it had started (child processes run in their own sessions)
        try:
            await stack.start()
        except Exception as error:  # any cause: said in one line, not a traceback
            print(f"fluxops sandbox up: the sandbox did not start: {error}", file=sys.stderr, flush=True)
            return 1
        print(banner(stack, discovery), flush=True)
        await stop.wait()
        print("\nstopping ...", flush=True)
    finally:
        await stack.stop()
    return 0


def _add_world_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--fleet", type=int, default=0, help="add N generated clusters (tags env/region/team)")
    p.add_argument("--time-scale", type=float, default=1.0, help="simulated seconds per real second")
    p.add_argument("--operation-seconds", type=float, default=0.3, help="how long ARM writes stay InProgress")
    p.add_argument("--step-seconds", type=float, default=0.7, help="pace of the simulated Flux agent")
    p.add_argument("--no-throttle", action="store_true", help="turn ARM throttling off")
    p.add_argument("--faults", help="YAML/JSON file with a 'faults' list (see sandbox/arm/faults.py)")
    p.add_argument("--state-dir", help="where repositories and certificates live (default: a temp dir)")


def _read_policy(path: str) -> str | None:
    """The policy file's text once it loads as FLUXOPS_CONFIG would; None (after saying why) when it does not."""
    from bot.config_file import read_config_file
    from bot.errors import FluxopsError

    try:
        read_config_file(Path(path))
        return Path(path).read_text(encoding="utf-8")
    except (OSError, FluxopsError) as error:
        message = error.user_text() if isinstance(error, FluxopsError) else str(error)
        print(f"fluxops sandbox up --policy {path}: {message}", file=sys.stderr)
        return None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fluxops", description="GitOps with Flux v2 on Azure, from chat.")
    commands = parser.add_subparsers(dest="command", required=True)
    sandbox = commands.add_parser("sandbox", help="the local world: emulated Azure, simulated Flux, git repos")
    actions = sandbox.add_subparsers(dest="action", required=True)
    arm = actions.add_parser("arm", help="the ARM emulator alone; prints one JSON line when ready")
    _add_world_flags(arm)
    up = actions.add_parser("up", help="the whole local system (fluxops on emulated clouds) until Ctrl-C")
    _add_world_flags(up)
    up.add_argument("--web-port", type=int, default=0, help="fluxops web's port (0 picks a free one)")
    up.add_argument(
        "--policy",
        help="run with this FLUXOPS_CONFIG policy file instead of the sandbox's own (try a policy before using it)",
    )
    world = actions.add_parser("world", help="emulated Azure alone (ARM, simulated Flux) until Ctrl-C")
    _add_world_flags(world)
    demo = actions.add_parser("demo", help="the seed tutorial end to end, through /flux in the sandbox")
    demo.add_argument("--quiet", action="store_true")
    chat = commands.add_parser("chat", help='send "/flux ..." to the running sandbox and print the replies')
    chat.add_argument("text", help='the slash command, e.g. "/flux help"')
    chat.add_argument("--yes", action="store_true", help="press Confirm when a destructive command asks")
    chat.add_argument("--timeout", type=float, default=900.0, help="stop following the job after this long")
    chat.add_argument("--sandbox", help="the sandbox's discovery file (default: ~/.fluxops/sandbox.json)")
    chat.add_argument("--as", dest="user", help="send as this Slack user id (U0OPERATOR, U0VIEWER; default: you)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "sandbox" and args.action in ("arm", "world"):
        announce = _announce_json if args.action == "arm" else _announce_human
        asyncio.run(_serve(_options(args), args.host, args.port, announce))
        return 0
    if args.command == "sandbox" and args.action == "up":
        policy = _read_policy(args.policy) if args.policy else None
        if args.policy and policy is None:
            return 2
        return asyncio.run(_serve_stack(_options(args), args.web_port, policy))
    if args.command == "chat":
        from cli.chat import run_chat
        from sandbox.stack import default_discovery_file

        discovery = Path(args.sandbox) if args.sandbox else default_discovery_file()
        return run_chat(args.text, confirm=args.yes, discovery=discovery, timeout=args.timeout, user=args.user)
    if args.command == "sandbox" and args.action == "demo":
        from cli.demo import run_demo

        return run_demo(quiet=args.quiet)
    return 2


if __name__ == "__main__":
    sys.exit(main())
