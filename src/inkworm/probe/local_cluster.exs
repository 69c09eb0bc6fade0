# The seed's LocalCluster, driven by a spec file: start peers, mesh, check, run the worm, trace.
# Usage: elixir src/inkworm/probe/local_cluster.exs SPEC_FILE   (needs ERL_EPMD_PORT: a private epmd, and
# HOME: a private folder holding the run's .erlang.cookie; ends when its stdin closes)

for part <- ~w(spec console peers killer),
    do: Code.require_file("local_cluster/#{part}.exs", __DIR__)

defmodule LocalCluster.Main do
  @moduledoc """
  `elixir src/inkworm/probe/local_cluster.exs SPEC_FILE`: prints one JSON object on stdout, exits 0 when a
  trace was written (also one that ends in `crash`); otherwise one line on stderr and exit
  code 2 (usage, spec), 3 (observed topology differs from the spec) or 1 (anything else).

  Its standard input is its lifeline: whoever started it keeps it open, and when it closes
  (the recorder ended, or was killed, even with SIGKILL) the driver halts at once, and every
  peer with it (a peer halts when its stdio control channel closes).
  """

  alias LocalCluster.{Failure, Killer, Spec}

  @probe_file Path.join(__DIR__, "inkworm_probe.exs")
  @pasted [InkwormProbe, InkwormProbe.Trace, InkwormProbe.JSON]
  @residue [InkwormProbe.Worm | @pasted]

  def main(argv) do
    t_start = LocalCluster.now()
    lifeline()
    spec = Spec.read!(spec_path(argv))
    check_epmd!()
    check_cookie!()
    Code.require_file(@probe_file)
    cluster = LocalCluster.start(spec)

    report =
      try do
        execute(cluster, spec)
      after
        LocalCluster.stop(cluster)
      end

    report =
      Map.merge(report, %{
        "peer_start_us" => cluster.start_us,
        "peer_start_total_us" => Enum.max(Map.values(cluster.start_us), fn -> 0 end),
        "total_us" => LocalCluster.now() - t_start
      })

    IO.puts(InkwormProbe.JSON.encode(report))
  rescue
    e in Failure -> halt(e.code, e.message)
    e -> halt(1, "internal error: " <> Exception.message(e))
  catch
    kind, reason -> halt(1, "internal error: #{inspect({kind, reason})}")
  end

  defp spec_path([path]), do: path

  defp spec_path(_),
    do: raise(Failure, message: "usage: elixir local_cluster.exs SPEC_FILE", code: 2)

  defp check_epmd! do
    unless System.get_env("ERL_EPMD_PORT") do
      raise Failure, message: "ERL_EPMD_PORT is not set: start a private epmd first", code: 2
    end
  end

  defp check_cookie! do
    cookie = Path.join(System.user_home() || "/nonexistent", ".erlang.cookie")

    unless File.regular?(cookie) do
      raise Failure,
        message: "no private cookie at #{cookie}: HOME must be the run's own folder",
        code: 2
    end
  end

  # Halts the driver (and so every peer) as soon as our stdin reaches end of file.
  defp lifeline do
    spawn(fn ->
      :eof = wait_eof()
      halt(1, "the recorder is gone (stdin closed): stopping the cluster")
    end)
  end

  defp wait_eof do
    case IO.binread(:stdio, :line) do
      data when is_binary(data) -> wait_eof()
      _eof_or_error -> :eof
    end
  end

  defp halt(code, message) do
    IO.puts(:stderr, "local_cluster: " <> String.replace(message, "\n", " "))
    System.halt(code)
  end

  defp execute(cluster, spec) do
    LocalCluster.mesh(cluster, spec.edges)
    before = LocalCluster.observe(cluster)
    compare!(spec, before)
    report = %{"ok" => true, "nodes" => LocalCluster.rename(cluster), "observed_before" => before}
    if spec.observe_only, do: report, else: Map.merge(report, worm(cluster, spec))
  end

  defp compare!(spec, observed) do
    expected = for n <- spec.nodes, do: {n, neighbours(spec.edges, n)}
    bad = for {n, ns} <- expected, MapSet.new(observed[n]) != ns, do: n

    if bad != [] do
      detail = Enum.map_join(bad, "; ", &"#{&1} sees #{inspect(observed[&1])}")
      raise Failure, message: "observed topology differs from the spec: #{detail}", code: 3
    end
  end

  defp neighbours(edges, n) do
    for {a, b} <- edges, n in [a, b], into: MapSet.new(), do: if(a == n, do: b, else: a)
  end

  defp worm(cluster, spec) do
    paste(cluster, spec.launch)
    killers = Enum.map(spec.kills, &Killer.start(cluster, &1))
    t_call = LocalCluster.now()
    run = launch(cluster, spec)
    call_us = LocalCluster.now() - t_call
    kills = Killer.collect(killers)
    write(cluster, spec, run, kills)
    unpaste(cluster, spec.launch)
    killed = for {x, _y, t} <- kills, t != nil, do: x

    %{
      "trace" => spec.out,
      "outcome" => Atom.to_string(elem(run.outcome, 0)),
      "worm_us" => Enum.find(run.events, &(&1.kind in [:result, :crash])).t_us,
      "worm_call_us" => call_us,
      "compile_us" => run.compile_us,
      "kills" => for({x, y, t} <- kills, do: %{"node" => x, "after" => y, "done" => t != nil}),
      "probe_loaded_after" => residue(cluster, killed),
      "observed_after" => LocalCluster.observe(cluster, killed),
      "console" => LocalCluster.console(cluster)
    }
  end

  # The seed's "paste the probe into iex on the launch node".
  defp paste(cluster, launch) do
    {:ok, _} = LocalCluster.call(cluster, launch, :application, :ensure_all_started, [:elixir])
    LocalCluster.call(cluster, launch, Code, :compile_file, [@probe_file], 120_000)
  end

  defp unpaste(cluster, launch) do
    for m <- @pasted,
        f <- [:delete, :purge],
        do: LocalCluster.call(cluster, launch, :code, f, [m])
  end

  defp launch(cluster, spec) do
    delays = Map.new(spec.delays, fn {n, ms} -> {LocalCluster.full(cluster, n), ms} end)
    opts = [mode: spec.mode, timeout: spec.timeout, tolerant: spec.tolerant, delays: delays]
    LocalCluster.call(cluster, spec.launch, InkwormProbe, :run, [opts], :infinity)
  catch
    :exit, reason ->
      raise Failure, message: "the run on #{spec.launch} failed: #{inspect(reason)}"
  end

  defp write(cluster, spec, run, kills) do
    extra =
      for {x, _, t} <- kills,
          t,
          do: %{kind: :kill, node: LocalCluster.full(cluster, x), t_us: t - run.t0}

    kills_meta = for {x, y} <- spec.kills, do: %{"node" => x, "after" => y}

    opts = [
      header:
        spec.header ++
          [{"auto_connect", Atom.to_string(spec.auto_connect)}, {"cluster", spec.nodes}],
      meta: %{"driver" => "local_cluster.exs", "kills" => kills_meta},
      rename: LocalCluster.rename(cluster),
      extra_events: extra
    ]

    args = [run, spec.out, opts]
    {:ok, _} = LocalCluster.call(cluster, spec.launch, InkwormProbe, :write_trace, args)
  rescue
    e -> raise Failure, message: "cannot write the trace: #{Exception.message(e)}"
  end

  # Waits (up to 10 s) for orphaned probes to finish and remove themselves; returns the
  # nodes where a probe still runs or any probe module (current or old code) is loaded.
  defp residue(cluster, killed, deadline \\ LocalCluster.now() + 10_000_000) do
    live = for n <- Map.keys(cluster.peers), n not in killed, do: n
    left = Enum.filter(live, &residue?(cluster, &1))

    if left == [] or LocalCluster.now() > deadline do
      Enum.sort(left)
    else
      Process.sleep(20)
      residue(cluster, killed, deadline)
    end
  end

  defp residue?(cluster, n) do
    running = LocalCluster.call(cluster, n, :erlang, :whereis, [:inkworm_probe]) != :undefined

    loaded =
      for m <- @residue,
          f <- [:module_loaded, :check_old_code],
          do: LocalCluster.call(cluster, n, :erlang, f, [m])

    running or Enum.any?(loaded)
  end
end

LocalCluster.Main.main(System.argv())
