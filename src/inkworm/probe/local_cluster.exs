# The seed's LocalCluster, driven by a spec file: start peers, mesh, check, run the worm, trace.
# Usage: elixir src/inkworm/probe/local_cluster.exs SPEC_FILE   (needs ERL_EPMD_PORT: a private epmd, and
# HOME: a private folder holding the run's .erlang.cookie; ends when its stdin closes)

for part <- ~w(spec console peers witness),
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

  alias LocalCluster.{Collector, Failure, Spec, Witness}

  @probe_file Path.join(__DIR__, "inkworm_probe.exs")
  @pasted [InkwormProbe, InkwormProbe.Trace, InkwormProbe.JSON]
  @residue [InkwormProbe.Worm | @pasted]

  def main(argv), do: LocalCluster.Lifeline.guard("local_cluster", fn -> run(argv) end)

  defp run(argv) do
    t_start = LocalCluster.now()
    Process.put(:inkworm_mark, t_start)
    lifeline()
    # Compiled once here; pasting it on the launch node is loading these binaries there.
    probe = Code.compile_file(@probe_file)
    Process.put(:inkworm_probe_code, probe)
    spec = Spec.read!(spec_path(argv))
    check_epmd!()
    check_cookie!()
    mark("setup")
    cluster = LocalCluster.start(spec)
    mark("peers")

    report =
      try do
        execute(cluster, spec)
      after
        LocalCluster.stop(cluster)
        mark("stop")
      end

    report =
      Map.merge(report, %{
        "peer_start_us" => cluster.start_us,
        "peer_start_total_us" => Enum.max(Map.values(cluster.start_us), fn -> 0 end),
        "total_us" => LocalCluster.now() - t_start,
        "phases_us" => Map.new(Process.get(:inkworm_phases, []))
      })

    IO.puts(InkwormProbe.JSON.encode(report))
    # Everything is stopped and said: halting now saves the VM's orderly shutdown (~1 s).
    System.halt(0)
  end

  # Where the driver's time goes: µs since the previous mark, by phase (the report's phases_us).
  defp mark(phase) do
    now = LocalCluster.now()
    last = Process.get(:inkworm_mark, now)
    Process.put(:inkworm_mark, now)
    Process.put(:inkworm_phases, [{phase, now - last} | Process.get(:inkworm_phases, [])])
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
      :eof = LocalCluster.Lifeline.wait_eof()
      halt(1, "the recorder is gone (stdin closed): stopping the cluster")
    end)
  end


  defp halt(code, message), do: LocalCluster.Lifeline.halt("local_cluster", code, message)

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
    mark("mesh")
    paste(cluster, spec.launch)
    mark("paste")
    Witness.install(cluster, Collector.name())
    collector = Collector.start(cluster, spec.kills)
    mark("witness")
    t0 = LocalCluster.now()
    opts = run_options(cluster, spec)
    {run, call_us} = launch(cluster, spec, opts)
    mark("worm")
    {streamed, kills} = Collector.dump(collector)
    killed = for {x, _y, t} <- kills, t != nil, do: x
    live = for n <- Map.keys(cluster.peers), n not in killed, do: n
    if run.outcome != :stopped, do: await_orphans(cluster, live)
    Witness.flush(cluster, live)
    {streamed, kills} = Collector.dump(collector)
    missed!(kills, run)
    mark("orphans")
    # Times count from the worm's launch (its t0), or from the call if the worm never started.
    {launched, streamed} = Enum.split_with(streamed, &(&1.kind == :launched))
    t0 = Enum.find_value(launched, t0, & &1.t0)
    write(cluster, spec, %{run | t0: t0}, assemble(cluster, run, streamed, kills, t0))
    mark("write")
    Witness.remove(cluster, live)
    if spec.strategy == :parallel, do: unload_worm(cluster, live)
    unpaste(cluster, spec.launch)
    residue = residue(cluster, killed)
    mark("residue")

    %{
      "trace" => spec.out,
      "outcome" => outcome(run.outcome),
      "worm_us" => worm_us(run),
      "worm_call_us" => call_us,
      "compile_us" => run.compile_us,
      "streamed" => length(streamed),
      "kills" => for({x, y, t} <- kills, do: %{"node" => x, "after" => y, "done" => t != nil}),
      "probe_loaded_after" => residue,
      "observed_after" => LocalCluster.observe(cluster, killed),
      "console" => LocalCluster.console(cluster)
    }
  end

  defp outcome(:stopped), do: "stopped"
  defp outcome({kind, _}), do: Atom.to_string(kind)

  defp worm_us(%{outcome: :stopped}), do: nil
  defp worm_us(run), do: Enum.find(run.events, &(&1.kind in [:result, :crash])).t_us

  # A kill that did not happen is an error, never a silent omission.
  defp missed!(kills, run) do
    for {x, y, nil} <- kills do
      why = if run.outcome == :stopped, do: "the run was stopped first", else: "it never started"

      raise Failure,
        message: "the kill of #{x} did not happen: it waits for #{y}'s probe, and #{why}"
    end
  end

  defp run_options(cluster, spec) do
    delays = Map.new(spec.delays, fn {n, ms} -> {LocalCluster.full(cluster, n), ms} end)

    [
      mode: spec.mode,
      timeout: spec.timeout,
      tolerant: spec.tolerant,
      delays: delays,
      strategy: spec.strategy,
      collect: spec.collect ++ Spec.user_collectors(spec.collector_source),
      sink: :inkworm_agent
    ]
  end

  # The probe's events as its call tree returned them, and what the witnesses saw besides
  # (a killed node's events, an orphaned branch's, every node's connects and disconnects),
  # merged by time. Without a run (stopped at the deadline), the witnesses' alone.
  defp assemble(cluster, run, streamed, kills, t0) do
    returned = MapSet.new(run.events, &{&1.node, &1.uid})

    extra =
      for event <- streamed, not MapSet.member?(returned, {event.node, event.uid}) do
        case Map.pop(event, :t_abs) do
          {nil, event} -> event
          {t_abs, event} -> Map.put(event, :t_us, t_abs - t0)
        end
      end

    full = &LocalCluster.full(cluster, &1)

    killed =
      for {x, _y, t} <- Collector.seen_gone(kills, run.events ++ streamed, t0, full), t != nil do
        %{kind: :kill, node: LocalCluster.full(cluster, x), t_us: t - t0, uid: 0}
      end

    InkwormProbe.Trace.merge_by_time(run.events, extra ++ killed)
  end

  # Orphaned probes (their caller was killed) walk on; wait (up to 10 s) until none runs.
  defp await_orphans(cluster, live, deadline \\ LocalCluster.now() + 10_000_000) do
    running =
      Enum.filter(
        live,
        &probing?(cluster, &1)
      )

    if running != [] and LocalCluster.now() < deadline do
      Process.sleep(10)
      await_orphans(cluster, running, deadline)
    end
  end

  # The seed's "paste the probe into iex on the launch node".
  defp paste(cluster, launch) do
    {:ok, _} = LocalCluster.call(cluster, launch, :application, :ensure_all_started, [:elixir])

    for {module, binary} <- Process.get(:inkworm_probe_code) do
      file = String.to_charlist(@probe_file)

      {:module, ^module} =
        LocalCluster.call(cluster, launch, :code, :load_binary, [module, file, binary])
    end
  end

  # A parallel worm leaves its module on the nodes it reached (no probe can tell it is the
  # last on its node, see the probe); the recorder removes it, over the control channels.
  defp unload_worm(cluster, live) do
    # loaded by the BIF, so unknown to the code server: deleted by the BIF too (after the old
    # code a second load left is purged: the BIF refuses while there is old code)
    for n <- live, do: LocalCluster.call(cluster, n, :code, :purge, [InkwormProbe.Worm])

    for n <- live, LocalCluster.call(cluster, n, :erlang, :module_loaded, [InkwormProbe.Worm]) do
      LocalCluster.call(cluster, n, :erlang, :delete_module, [InkwormProbe.Worm])
    end

    for n <- live, do: LocalCluster.call(cluster, n, :code, :purge, [InkwormProbe.Worm])
  end

  defp unpaste(cluster, launch) do
    for m <- @pasted,
        f <- [:delete, :purge],
        do: LocalCluster.call(cluster, launch, :code, f, [m])
  end

  defp launch(cluster, spec, opts) do
    t_call = LocalCluster.now()
    args = [opts]

    run =
      try do
        LocalCluster.call(cluster, spec.launch, InkwormProbe, :run, args, spec.deadline)
      catch
        :exit, {:timeout, _} ->
          stopped(spec, opts)

        :exit, reason ->
          raise Failure, message: "the run on #{spec.launch} failed: #{inspect(reason)}"
      end

    {run, LocalCluster.now() - t_call}
  end

  # The recorder's deadline passed before the worm answered: a run with no outcome.
  defp stopped(spec, opts) do
    %{
      launch: nil,
      mode: spec.mode,
      options: InkwormProbe.options(opts),
      outcome: :stopped,
      events: [],
      t0: nil,
      compile_us: nil,
      code_bytes: nil
    }
  end

  defp write(cluster, spec, run, events) do
    kills_meta = for {x, y} <- spec.kills, do: %{"node" => x, "after" => y}

    stopped =
      if run.outcome == :stopped,
        do: %{"stopped" => %{"why" => "deadline", "deadline_ms" => spec.deadline}},
        else: %{}

    opts = [
      header:
        spec.header ++
          [{"auto_connect", Atom.to_string(spec.auto_connect)}, {"cluster", spec.nodes}],
      meta: Map.merge(%{"driver" => "local_cluster.exs", "kills" => kills_meta}, stopped),
      rename: LocalCluster.rename(cluster),
      events: events
    ]

    run = %{run | launch: LocalCluster.full(cluster, spec.launch)}
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

  # A probe runs on `n`: one registered as `inkworm_probe` (a parallel one with its path).
  defp probing?(cluster, n) do
    LocalCluster.call(cluster, n, :erlang, :registered, [])
    |> Enum.any?(&String.starts_with?(Atom.to_string(&1), "inkworm_probe"))
  end

  defp residue?(cluster, n) do
    running = probing?(cluster, n)

    loaded =
      for m <- @residue,
          f <- [:module_loaded, :check_old_code],
          do: LocalCluster.call(cluster, n, :erlang, f, [m])

    running or Enum.any?(loaded)
  end
end

LocalCluster.Main.main(System.argv())
