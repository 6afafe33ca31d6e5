"""The service's parts as real processes (`python -m service ingress | worker | all`), for tests
that kill, stop or start them as an operator or a crash would."""

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx
from pydantic import SecretStr

from service.settings import Settings
from tests.support import ROOT, eventually, free_port

#: Names the service reads from the environment: only the test's own values may reach a child.
_SETTING_NAMES = {name.upper() for name in Settings.model_fields}


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that makes `python -m service` run with exactly `settings`."""
    env = {k: v for k, v in os.environ.items() if k not in _SETTING_NAMES}
    for name, value in settings:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[name.upper()] = str(value).lower() if isinstance(value, bool) else str(value)
    env.update(extra)
    return env


class ServiceProcess:
    """`python -m service <part>` with the test's settings; its output goes to a file (a pipe
    nobody reads would fill and stall the process), shown when something goes wrong."""

    def __init__(self, part: str, settings: Settings, **extra: str) -> None:
        self.part = part
        self.ingress_url = f"http://127.0.0.1:{free_port()}"
        self.admin_url = f"http://127.0.0.1:{free_port()}"
        #: The part's own address (the ingress's for `ingress`, the admin API's otherwise).
        self.url = self.ingress_url if part == "ingress" else self.admin_url
        ports = {
            "INGRESS_PORT": self.ingress_url.rsplit(":", 1)[1],
            "ADMIN_PORT": self.admin_url.rsplit(":", 1)[1],
        }
        self._env = env_for(settings, **ports, **extra)
        if part == "ingress":
            # As its deployments run it: the ingress is given no database setting at all.
            for name in ("MONGODB_URI", "MONGODB_DATABASE"):
                self._env.pop(name)
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in __aexit__)
            prefix=f"service-{part}-", suffix=".log", delete=False
        )
        self.proc: subprocess.Popen[bytes] | None = None

    async def __aenter__(self) -> Self:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "service", self.part],
            cwd=ROOT,
            env=self._env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            await asyncio.to_thread(self.proc.wait, 10)
        self._log.close()
        await asyncio.to_thread(Path(self._log.name).unlink, missing_ok=True)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def output(self) -> str:
        self._log.flush()
        return Path(self._log.name).read_text(errors="replace")

    async def ready(self, timeout: float = 40.0) -> None:
        """Wait until `/readyz` answers 200 on every address the part serves (Kafka, and for
        a worker the database, reachable)."""
        urls = {
            "ingress": [self.ingress_url],
            "worker": [self.admin_url],
            "all": [self.ingress_url, self.admin_url],
        }[self.part]
        async with httpx.AsyncClient(timeout=2) as http:

            async def answered() -> bool:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise AssertionError(f"{self.part} exited early:\n{self.output()[-4000:]}")
                try:
                    answers = [await http.get(url + "/readyz") for url in urls]
                except httpx.TransportError:
                    return False
                return all(a.status_code == 200 for a in answers)

            await eventually(answered, timeout=timeout, interval=0.3)

    async def kill(self) -> int:
        """SIGKILL: no handler finishes, nothing is committed or flushed on the way out."""
        return await self._signal(signal.SIGKILL, 10)

    async def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, as an orchestrator stops a process; answers the exit code."""
        return await self._signal(signal.SIGTERM, timeout)

    async def interrupt(self, timeout: float = 30.0) -> int:
        """SIGINT, as Ctrl-C in a terminal; answers the exit code."""
        return await self._signal(signal.SIGINT, timeout)

    async def _signal(self, sig: signal.Signals, timeout: float) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        try:
            return await asyncio.to_thread(self.proc.wait, timeout)
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(
                f"{self.part} did not exit within {timeout}s of {sig.name}:\n"
                f"{self.output()[-4000:]}"
            ) from exc
