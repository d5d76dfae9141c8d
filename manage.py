#!/usr/bin/env python
"""Django's command-line utility for BounceCRM."""

import os
import sys

# The MTA pipe (`ingest_bounce`) must answer the mail server in sysexits terms whatever goes
# wrong before the message is stored (a settings error, a missing module, a bad argument): 75
# makes the MTA keep the message and retry, where any other code would bounce the bounce.
PIPE_COMMAND = "ingest_bounce"
PIPE_EXIT_CODES = {0, 65, 75}
EX_TEMPFAIL = 75


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bouncecrm.settings")
    if len(sys.argv) > 1 and sys.argv[1] == PIPE_COMMAND:
        try:
            _run()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if code not in PIPE_EXIT_CODES:
                sys.stderr.write(f"{PIPE_COMMAND}: temporary failure (exit {exc.code!r})\n")
                sys.exit(EX_TEMPFAIL)
            raise
        except BaseException as exc:  # noqa: BLE001 - every failure must be a temporary one
            sys.stderr.write(f"{PIPE_COMMAND}: temporary failure: {type(exc).__name__}: {exc}\n")
            sys.exit(EX_TEMPFAIL)
        return
    _run()


def _run() -> None:
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
