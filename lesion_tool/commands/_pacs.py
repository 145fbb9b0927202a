"""Connection options shared by the commands that talk to a PACS (pull, pacs-search, export-sr).

Secrets never go on the command line (where ``ps`` and shell history would show them): the
options name environment variables that hold the password or token.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from lesion_tool.errors import PacsError

if TYPE_CHECKING:
    from lesion_tool.pacs.models import PacsConnection

__all__ = ["add_connection_arguments", "connection_from_args", "refuse_connection_options"]


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--user --password-env --token-env --ca-bundle --insecure --timeout``."""
    group = parser.add_argument_group("PACS connection")
    group.add_argument("--user", metavar="USER", help="user name for HTTP basic authentication")
    group.add_argument(
        "--password-env",
        metavar="VAR",
        help="environment variable holding the password of --user",
    )
    group.add_argument(
        "--token-env", metavar="VAR", help="environment variable holding a bearer token"
    )
    tls = group.add_mutually_exclusive_group()
    tls.add_argument(
        "--ca-bundle",
        type=Path,
        metavar="FILE",
        help="PEM file of the certificate authorities to trust for HTTPS",
    )
    tls.add_argument(
        "--insecure",
        action="store_true",
        help="do not check the server's TLS certificate (testing only; warns)",
    )
    group.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds to wait for the server to connect or send data (default 30)",
    )


def _secret(var: str, option: str) -> str:
    value = os.environ.get(var)
    if not value:
        raise PacsError(f"environment variable {var} (named by {option}) is not set or empty.")
    return value


def connection_from_args(args: argparse.Namespace, url: str) -> PacsConnection:
    """The connection the options describe, secrets read from the environment variables."""
    from lesion_tool.pacs.models import PacsConnection

    if args.password_env and not args.user:
        raise PacsError("--password-env needs --user.")
    if args.user and not args.password_env:
        raise PacsError(
            "--user needs --password-env VAR (the password is read from that environment "
            "variable, never from the command line)."
        )
    if args.token_env and args.user:
        raise PacsError("give --user/--password-env or --token-env, not both.")
    return PacsConnection(
        url,
        username=args.user,
        password=_secret(args.password_env, "--password-env") if args.user else None,
        token=_secret(args.token_env, "--token-env") if args.token_env else None,
        ca_bundle=args.ca_bundle,
        insecure=args.insecure,
        timeout_s=args.timeout,
    )


def refuse_connection_options(args: argparse.Namespace, needed: str) -> None:
    """Raise when connection options were given without the option that uses them."""
    given = [
        option
        for option, value in (
            ("--user", args.user),
            ("--password-env", args.password_env),
            ("--token-env", args.token_env),
            ("--ca-bundle", args.ca_bundle),
            ("--insecure", args.insecure),
        )
        if value
    ]
    if given:
        raise PacsError(f"{', '.join(given)}: used only with {needed}.")
