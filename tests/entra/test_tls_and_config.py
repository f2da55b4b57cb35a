"""The identity provider over real TLS: its certificate is verified against the system store or the configured bundle;
and the configuration's edges (a certificate instead of a secret, the bundle from the environment)."""

from __future__ import annotations

import datetime
import ipaddress
import json
import runpy
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.core.exceptions import ImproperlyConfigured

from entra.errors import IdentityProviderUnavailable
from entra.oidc import EntraClient, EntraConfig
from entra.provider import entra_config

ROOT = Path(__file__).resolve().parents[2]


def _certificate(subject: str, key, issuer_key, issuer_name=None, *, ca: bool = False) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name or name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def tls_idp(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """An OpenID configuration served over https by a certificate from a private CA. Yields (authority, CA file)."""
    folder = tmp_path_factory.mktemp("tls")
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_cert = _certificate("Test CA", ca_key, ca_key, ca=True)
    server_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    server_cert = _certificate("127.0.0.1", server_key, ca_key, ca_cert.subject)
    (folder / "ca.pem").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(
        server_cert.public_bytes(serialization.Encoding.PEM)
        + server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())
    )
    authority: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            base = authority["url"]
            body = json.dumps({"issuer": base, "authorization_endpoint": f"{base}/authorize",
                               "token_endpoint": f"{base}/token", "jwks_uri": f"{base}/keys"}).encode()
            self.send_response(200 if self.path == "/tenant/.well-known/openid-configuration" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "server.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    authority["url"] = f"https://127.0.0.1:{server.server_address[1]}/tenant"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield authority["url"], folder / "ca.pem"
    server.shutdown()
    server.server_close()


def _client(authority: str, ca_bundle: str = "") -> EntraClient:
    return EntraClient(EntraConfig(client_id="app", authority=authority, client_credential="s", timeout=5.0,
                                   ca_bundle=ca_bundle))


def test_an_identity_provider_whose_certificate_the_trust_store_does_not_know_is_refused(tls_idp) -> None:
    authority, _ = tls_idp
    client = _client(authority)
    with pytest.raises(IdentityProviderUnavailable):
        client.flow_start(redirect_uri="https://orders.example.com/accounts/microsoft/callback/")


def test_the_configured_bundle_is_trusted_and_msal_reads_the_authority_through_it(tls_idp) -> None:
    authority, ca = tls_idp
    flow = _client(authority, str(ca)).flow_start(redirect_uri="https://orders.example.com/accounts/microsoft/cb/")
    assert flow["auth_uri"].startswith(f"{authority}/authorize?")


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_the_bundle_comes_from_the_usual_variables(monkeypatch, variable) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setenv(variable, "/etc/company/ca.pem")
    assert runpy.run_path(str(ROOT / "portal" / "settings.py"))["ENTRA_CA_BUNDLE"] == "/etc/company/ca.pem"


def test_a_certificate_can_stand_in_for_the_secret(settings, tmp_path) -> None:
    pem = tmp_path / "entra.pem"
    pem.write_text("-----BEGIN PRIVATE KEY-----\nnot-a-real-key\n-----END PRIVATE KEY-----\n")
    settings.ENTRA_CLIENT_ID = "app"
    settings.ENTRA_CLIENT_SECRET = ""
    settings.ENTRA_CLIENT_CERTIFICATE_PATH = str(pem)
    settings.ENTRA_CLIENT_CERTIFICATE_THUMBPRINT = "AB12"
    config = entra_config()
    assert config.client_credential == {"private_key": pem.read_text(), "thumbprint": "AB12"}
    assert "not-a-real-key" not in repr(config)
    settings.ENTRA_CLIENT_CERTIFICATE_PATH = str(tmp_path / "missing.pem")
    with pytest.raises(ImproperlyConfigured, match="ENTRA_CLIENT_CERTIFICATE_PATH"):
        entra_config()
