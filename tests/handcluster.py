"""Clusters started by hand, the way a user starts one, not through inkworm.

Each node is its own OS process (``elixir --name n1@127.0.0.2 ...``, or plain ``erl`` for a
node without Elixir), ``-connect_all false``, listening on its own loopback address only,
registered with an epmd the test starts on the loopback addresses it uses, its cookie a
per-test random one in the HOME it is started with (never on a command line). The node's own
script meshes it: told ``connect NODE`` on its standard input, it connects; it answers
``nodes``, ``hidden`` and ``loaded`` there too, so that the test looks at the cluster without
joining it. A node halts when its standard input closes, and :meth:`HandCluster.stop` stops
exactly the processes the test started.
"""

from __future__ import annotations

import contextlib
import os
import queue
import secrets
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import IO

ELIXIR_CTL = r"""
defmodule Ctl do
  @mods [InkwormProbe.Worm, InkwormProbe, InkwormProbe.Trace, InkwormProbe.JSON]
  def loop do
    case IO.gets("") do
      :eof -> System.halt(0)
      line ->
        words = String.split(String.trim(line))
        reply = case words do
          ["connect", n] -> [to_string(:net_kernel.connect_node(String.to_atom(n)))]
          ["nodes"] -> Enum.map(:erlang.nodes(), &Atom.to_string/1)
          ["hidden"] -> Enum.map(:erlang.nodes(:hidden), &Atom.to_string/1)
          ["loaded"] -> for m <- @mods, :erlang.module_loaded(m), do: inspect(m)
        end
        IO.puts(Enum.join(["@@" | reply], " "))
        loop()
    end
  end
  # "1": halts the node the moment the worm is being loaded on it; "hang": the load never
  # returns (the loading process is suspended)
  def fragile(how) do
    tracer = spawn(fn ->
      receive do
        {:trace, pid, :call, {:code, :load_binary, [InkwormProbe.Worm | _]}} ->
          if how == "hang", do: :erlang.suspend_process(pid), else: :erlang.halt(0)
          Process.sleep(:infinity)
      end
    end)
    :erlang.trace(:all, true, [:call, {:tracer, tracer}])
    :erlang.trace_pattern({:code, :load_binary, 3}, true, [:global])
  end
end
if System.get_env("HAND_FRAGILE") in ["1", "hang"], do: Ctl.fragile(System.get_env("HAND_FRAGILE"))
IO.puts("@@ up")
Ctl.loop()
"""

ERLANG_CTL = (
    "Loop = fun Loop() -> case io:get_line(\"\") of eof -> halt(0); Line -> "
    "Reply = case string:lexemes(string:trim(Line), \" \") of "
    "[\"connect\", N] -> [atom_to_list(net_kernel:connect_node(list_to_atom(N)))]; "
    "[\"nodes\"] -> [atom_to_list(X) || X <- erlang:nodes()]; "
    "[\"hidden\"] -> [atom_to_list(X) || X <- erlang:nodes(hidden)]; "
    "[\"loaded\"] -> [] end, "
    "io:format(\"~ts~n\", [lists:join(\" \", [\"@@\" | Reply])]), Loop() end end, "
    "io:format(\"@@ up~n\"), Loop()."
)


def address(host: str) -> str:
    """The loopback address a node of ``host`` listens on (a short host name: what it
    resolves to, which must be loopback)."""
    if "." in host:
        return host
    resolved = socket.gethostbyname(host)
    if not resolved.startswith("127."):
        raise RuntimeError(f"{host} resolves to {resolved}, not a loopback address")
    return resolved


def short_host() -> str | None:
    """This machine's short host name when it resolves to a loopback address (short-name
    nodes listen there), else None."""
    host = socket.gethostname().partition(".")[0]
    try:
        return host if socket.gethostbyname(host).startswith("127.") else None
    except OSError:
        return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Node:
    """One hand-started node and its control channel (its stdin and stdout)."""

    def __init__(self, name: str, proc: subprocess.Popen[str]) -> None:
        self.name = name
        self.proc = proc
        self.replies: queue.Queue[list[str]] = queue.Queue()
        self.console: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("@@"):
                self.replies.put(line.split()[1:])
            else:
                self.console.append(line.rstrip("\n"))

    def ask(self, command: str, timeout: float = 30) -> list[str]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.replies.get(timeout=timeout)

    def alive(self) -> bool:
        return self.proc.poll() is None


class HandCluster:
    """Nodes ``name@host`` started by hand, meshed along ``edges`` (in that order)."""

    def __init__(self, folder: Path, nodes: list[str], edges: list[tuple[str, str]],
                 plain: frozenset[str] = frozenset(),
                 fragile: frozenset[str] = frozenset(),
                 hanging: frozenset[str] = frozenset()) -> None:
        self.folder = folder
        home = folder / "home"
        home.mkdir(mode=0o700)
        self.cookie = home / ".erlang.cookie"
        fd = os.open(self.cookie, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(20))
        hosts = sorted({address(n.partition("@")[2]) for n in nodes} | {"127.0.0.1"})
        self.port = free_port()
        self.epmd = subprocess.Popen(["epmd", "-port", str(self.port), "-address",
                                      ",".join(hosts)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith("ERL_")},
                    "HOME": str(home), "ERL_EPMD_PORT": str(self.port)}
        self.nodes: dict[str, Node] = {}
        try:
            self._wait_epmd()
            for name in nodes:
                how = "1" if name in fragile else "hang" if name in hanging else "0"
                self.nodes[name] = self._start(name, name in plain, how)
            for node in self.nodes.values():
                assert node.replies.get(timeout=60) == ["up"], node.console
            for a, b in edges:
                assert self.nodes[a].ask(f"connect {b}") == ["true"], (a, b)
        except BaseException:
            self.stop()
            raise

    def _wait_epmd(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("the test's epmd did not start")

    def _start(self, name: str, plain: bool, fragile: str) -> Node:
        short, _, host = name.partition("@")
        interface = "{" + address(host).replace(".", ",") + "}"
        flags = ["-connect_all", "false", "-start_epmd", "false",
                 "-kernel", "inet_dist_use_interface", interface]
        if plain:
            command = ["erl", "-name", name, "-noshell", *flags, "-eval", ERLANG_CTL]
        elif "." not in host:  # a short name: this machine's own host name
            command = ["elixir", "--sname", short, "--erl", " ".join(flags), "-e", ELIXIR_CTL]
        else:
            command = ["elixir", "--name", name, "--erl", " ".join(flags), "-e", ELIXIR_CTL]
        env = {**self.env, "HAND_FRAGILE": fragile}
        proc = subprocess.Popen(command, env=env, cwd=self.folder, text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        return Node(name, proc)

    def ask_all(self, command: str) -> dict[str, list[str]]:
        return {name: sorted(node.ask(command)) for name, node in self.nodes.items()
                if node.alive()}

    def inkworm_env(self) -> dict[str, str]:
        """What inkworm runs with: the cluster's epmd port (as a user's ERL_EPMD_PORT)."""
        return {"ERL_EPMD_PORT": str(self.port)}

    def stop(self) -> None:
        """Stop every process this cluster started, and nothing else."""
        for node in self.nodes.values():
            stream: IO[str] | None = node.proc.stdin
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        for node in self.nodes.values():
            try:
                node.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                node.proc.kill()
                node.proc.wait()
        self.epmd.kill()
        self.epmd.wait()
        shutil.rmtree(self.folder / "home", ignore_errors=True)
