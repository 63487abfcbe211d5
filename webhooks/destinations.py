"""Where a call may go (WEBHOOK_ALLOWED_HOSTS), and the call itself, to an address checked first.

A webhook URL is chosen by another system's administrator, so it is a way into the network this
server sits in (SSRF): a name that resolves to 127.0.0.1, to the database host or to a cloud's
metadata address would make us call it. Hence, when subscribing and again at every call:

- the scheme is https, or http for a host listed in WEBHOOK_PLAIN_HTTP_HOSTS;
- the URL's host is a listed name, or an address inside a listed address or network;
- the name is resolved here, and every address it gives must be public or inside a listed network;
- the connection goes to the address just checked (never a second lookup, which DNS could answer
  differently), with the name in the Host header and in TLS (its certificate is verified).

Redirects are not followed: an answer 3xx is a failed attempt.
"""

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from units.display import display_list

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class DestinationRefused(Exception):
    """The URL, its host or an address it resolves to is not allowed; the message names which."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str
    port: int
    target: str  # path and query, as sent in the request line
    address: str  # the checked address the connection goes to


def _allowed() -> tuple[set[str], list[Network]]:
    names, networks = set(), []
    for entry in settings.WEBHOOK_ALLOWED_HOSTS:
        entry = entry.strip().lower()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry.rstrip("."))
    return names, networks


def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])  # an IPv6 zone index is not part of it
    except ValueError:
        return None


def _address_allowed(address: Address | None, networks: list[Network]) -> bool:
    if address is None:
        return False
    if any(address in network for network in networks):
        return True
    return address.is_global and not address.is_multicast


def destination_check(url: str, *, resolve: bool = True) -> Destination:
    """The destination of `url` if calls may go there; DestinationRefused naming the problem.

    With resolve=False only the URL and its host are checked (no DNS): for a form that says what
    is wrong before the service resolves the name."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # an unclosed [ of an IPv6 address, and the like
        raise DestinationRefused(_("推送地址必须是 https:// 开头的完整网址。")) from None
    try:
        port = parts.port
    except ValueError:
        raise DestinationRefused(_("推送地址的端口无效。")) from None
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in ("https", "http") or not host:
        raise DestinationRefused(_("推送地址必须是 https:// 开头的完整网址。"))
    if not host.isascii():
        raise DestinationRefused(
            _("主机名“%(host)s”须写成 ASCII 形式（中文域名请写成以 xn-- 开头的形式）。") % {"host": host}
        )
    if parts.username is not None or parts.password is not None:
        raise DestinationRefused(_("推送地址不能包含用户名或密码。"))
    plain_http_hosts = {name.strip().lower().rstrip(".") for name in settings.WEBHOOK_PLAIN_HTTP_HOSTS}
    if parts.scheme == "http" and host not in plain_http_hosts:
        raise DestinationRefused(_("推送地址必须使用 https（主机“%(host)s”未获准使用 http）。") % {"host": host})
    names, networks = _allowed()
    literal = _address(host)
    if not (host in names or (literal is not None and any(literal in network for network in networks))):
        raise DestinationRefused(
            _("主机“%(host)s”不在允许推送的主机名单（WEBHOOK_ALLOWED_HOSTS）中。") % {"host": host}
        )
    port = port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not resolve:
        return Destination(parts.scheme, host, port, target, address="")
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise DestinationRefused(_("主机“%(host)s”无法解析。") % {"host": host}) from None
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    refused = [text for text in addresses if not _address_allowed(_address(text), networks)]
    if refused:
        raise DestinationRefused(
            _("主机“%(host)s”解析到不允许的地址：%(addresses)s（内部地址须在 WEBHOOK_ALLOWED_HOSTS 中列出其网段）。")
            % {"host": host, "addresses": display_list(sorted(refused))}
        )
    return Destination(parts.scheme, host, port, target, address=addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, destination: Destination, timeout: float) -> None:
        super().__init__(destination.host, destination.port, timeout=timeout)
        self._pinned = destination.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._pinned, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, destination: Destination, timeout: float) -> None:
        super().__init__(destination.host, destination.port, timeout=timeout, context=ssl.create_default_context())
        self._pinned = destination.address

    def connect(self) -> None:
        sock = socket.create_connection((self._pinned, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no answer (refused, unreachable, timed out)
    error: str  # empty when the receiver accepted the call (2xx)

    @property
    def is_success(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


# What an answer may keep of the receiver's words, for the log.
_ERROR_BODY_CHARS = 200


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> Answer:
    """POST `body` to `url` after destination_check; never raises for what the network or the
    receiver does (that is an Answer with an error)."""
    try:
        destination = destination_check(url)
    except DestinationRefused as refused:
        return Answer(None, refused.message)
    connection_class = _PinnedHTTPSConnection if destination.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(destination, timeout)
    try:
        connection.request(
            "POST", destination.target, body=body, headers={**headers, "User-Agent": "gongwen-webhooks/1"}
        )
        response = connection.getresponse()
        text = response.read(_ERROR_BODY_CHARS * 4).decode("utf-8", "replace")[:_ERROR_BODY_CHARS]
    except TimeoutError:
        return Answer(None, _("超时（%(seconds)s 秒）未响应。") % {"seconds": f"{timeout:g}"})
    except (OSError, http.client.HTTPException) as error:
        return Answer(None, _("连接失败：%(error)s") % {"error": f"{type(error).__name__}: {error}"[:300]})
    finally:
        connection.close()
    if 200 <= response.status < 300:
        return Answer(response.status, "")
    return Answer(response.status, _("对方返回 HTTP %(status)d：%(text)s") % {"status": response.status, "text": text})
