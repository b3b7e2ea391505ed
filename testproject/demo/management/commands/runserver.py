"""``manage.py runserver`` for the demo: Django's (with static files), plus, once the port is bound, the demo's
own origins moved to that port and the addresses to open printed.

Only the bound port is the truth: ``runserver 8001``, ``runserver 0.0.0.0:8001`` and ``runserver 127.0.0.1:0``
(a free port picked by the system) all end up in the policies and in the printed addresses. The demo app comes
before ``django.contrib.staticfiles`` in ``INSTALLED_APPS``, so this command is the one ``manage.py`` runs.
"""

from __future__ import annotations

from typing import Any

from django.contrib.staticfiles.management.commands.runserver import Command as StaticfilesRunserver
from django.db import DatabaseError, connections

from .demo_setup import address_lines, follow_port


class Command(StaticfilesRunserver):
    help = f"{StaticfilesRunserver.help} The demo's own origins follow the port served."
    addr: str  # set by runserver's handle() from the address given

    def on_bind(self, server_port: Any) -> None:
        super().on_bind(server_port)
        port = int(server_port)
        try:
            follow_port(port, self.stdout)
        except DatabaseError as exc:
            self.stderr.write(
                f"The demo's policies could not be read ({exc}): run manage.py migrate and manage.py demo_setup."
            )
        finally:
            for connection in connections.all(initialized_only=True):
                if not connection.in_atomic_block:  # a test's transaction stays open
                    connection.close()  # the request threads open their own
        for line in address_lines(self.addr, port):
            self.stdout.write(self.style.SUCCESS(line))
