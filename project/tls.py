"""TLS for test servers: a throwaway certificate authority (trustme) and a certificate for
127.0.0.1 it signed, as PEM files, with the matching redis-server and client settings.

Only tests import this (trustme is a test dependency).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import trustme


@dataclass(frozen=True)
class TlsFiles:
    ca: Path  # the authority's certificate: what clients trust
    cert: Path  # the server's certificate, for 127.0.0.1 and localhost
    key: Path

    def server_args(self) -> list[str]:
        """redis-server options serving TLS with these files (clients show no certificate)."""
        return [
            "--tls-cert-file",
            str(self.cert),
            "--tls-key-file",
            str(self.key),
            "--tls-ca-cert-file",
            str(self.ca),
            "--tls-auth-clients",
            "no",
        ]

    def client_kwargs(self) -> dict[str, Any]:
        """redis-py client options trusting the authority."""
        return {"ssl": True, "ssl_ca_certs": str(self.ca)}

    def url(self, port: int, host: str = "127.0.0.1") -> str:
        """A `rediss://` URL trusting the authority, as an application would configure it."""
        return f"rediss://{host}:{port}/0?ssl_ca_certs={quote(str(self.ca))}"


def make_tls_files(folder: Path) -> TlsFiles:
    """A new authority and server certificate, written into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    authority = trustme.CA()
    server = authority.issue_cert("127.0.0.1", "localhost")
    files = TlsFiles(ca=folder / "ca.pem", cert=folder / "server.pem", key=folder / "server.key")
    authority.cert_pem.write_to_path(str(files.ca))
    server.cert_chain_pems[0].write_to_path(str(files.cert))
    server.private_key_pem.write_to_path(str(files.key))
    return files
