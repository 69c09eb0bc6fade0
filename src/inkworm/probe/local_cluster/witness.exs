# The recorder's witness on every peer, and the collector and killer on the controller.

defmodule LocalCluster.Witness do
  @moduledoc """
  A process on every peer (registered `:inkworm_agent`, high priority) that the recorder
  starts before the run and removes after it. It sees what a probe alone cannot:

    * every event a probe on its node records (the probe sends each one here as it makes it,
      the `sink:` option of `InkwormProbe.run/1`), so that a probe that dies, or whose caller
      died, loses nothing;
    * every `nodeup`/`nodedown` of its node for the whole run, also on nodes no probe reached;
    * a probe starting on an armed node: it holds that probe at its `probe_start` until the
      controller releases it (`--kill N --after M` stops N while M is held).

  It forwards each event at once to the controller over the peer's stdio control channel
  (`{:message, to, term}` sent to the peer's `user` process): no distribution connection is
  made, and the channel keeps the order in which the witness sent them. Its own events carry
  absolute times (`t_abs`, µs); the probe's carry `t_us` from the run's t0.

  The module is compiled in memory here and loaded on each peer with `:code.load_binary/3`.
  """

  @agent :inkworm_agent
  @module InkwormWitness

  defp code do
    quote do
      defmodule InkwormWitness do
        @moduledoc false
        @agent :inkworm_agent

        def start(collector) do
          parent = self()
          pid = spawn(fn -> init(parent, collector) end)

          receive do
            {:inkworm_witness_up, ^pid} -> :ok
          end
        end

        def arm, do: ask(:inkworm_arm)
        def flush, do: ask(:inkworm_flush)
        def stop, do: ask(:inkworm_stop)

        defp ask(what) do
          ref = make_ref()
          send(@agent, {what, self(), ref})

          receive do
            {^ref, answer} -> answer
          end
        end

        defp init(parent, collector) do
          Process.flag(:priority, :high)
          Process.register(self(), @agent)
          :ok = :net_kernel.monitor_nodes(true, [:nodedown_reason])
          send(parent, {:inkworm_witness_up, self()})
          loop(%{collector: collector, armed: false, held: nil, sent: 0})
        end

        defp loop(state) do
          receive do
            {:nodeup, peer, _info} ->
              loop(forward(state, observed(:connect, peer: peer)))

            {:nodedown, peer, info} ->
              reason = info[:nodedown_reason]
              loop(forward(state, observed(:disconnect, peer: peer, reason: reason)))

            {:inkworm_event, event} ->
              loop(forward(state, event))

            {:inkworm_gate, from, ref} when state.armed ->
              held = %{kind: :held, node: node(), t_abs: :os.system_time(:microsecond)}
              loop(%{forward(state, held) | armed: false, held: {from, ref}})

            {:inkworm_gate, from, ref} ->
              send(from, {ref, :go})
              loop(state)

            :inkworm_release ->
              with {from, ref} <- state.held, do: send(from, {ref, :go})
              loop(%{state | held: nil})

            {:inkworm_arm, from, ref} ->
              send(from, {ref, :ok})
              loop(%{state | armed: true})

            {:inkworm_flush, from, ref} ->
              send(from, {ref, state.sent})
              loop(state)

            {:inkworm_stop, from, ref} ->
              :net_kernel.monitor_nodes(false, [:nodedown_reason])
              Process.unregister(@agent)
              send(from, {ref, state.sent})
          end
        end

        defp observed(kind, fields) do
          t_abs = :os.system_time(:microsecond)
          uid = :erlang.unique_integer([:monotonic, :positive])
          Map.merge(Map.new(fields), %{kind: kind, node: node(), t_abs: t_abs, uid: uid})
        end

        defp forward(state, event) do
          send(:user, {:message, state.collector, {:inkworm_witnessed, event}})
          %{state | sent: state.sent + 1}
        end
      end
    end
  end

  @doc "Loads the witness on every peer and starts it, reporting to `collector` (a name)."
  def install(cluster, collector) do
    [{@module, binary}] = Code.compile_quoted(code(), "inkworm_witness.exs")

    for {name, _pid} <- cluster.peers do
      {:module, @module} =
        LocalCluster.call(cluster, name, :code, :load_binary, [@module, ~c"witness", binary])

      :ok = LocalCluster.call(cluster, name, @module, :start, [collector])
    end

    :code.purge(@module)
    :code.delete(@module)
    :ok
  end

  @doc "Holds the next probe that starts on `name` until `release/2`."
  def arm(cluster, name), do: :ok = LocalCluster.call(cluster, name, @module, :arm, [])

  def release(cluster, name),
    do: :peer.send(Map.fetch!(cluster.peers, name), @agent, :inkworm_release)

  @doc """
  Returns once everything the witness of each of `names` has sent is with the controller: the
  call's answer travels the same channel, after the events.
  """
  def flush(cluster, names),
    do: Enum.each(names, &LocalCluster.call(cluster, &1, @module, :flush, []))

  @doc "Stops the witness on each of `names` and removes its module."
  def remove(cluster, names) do
    for name <- names do
      LocalCluster.call(cluster, name, @module, :stop, [])
      for f <- [:delete, :purge], do: LocalCluster.call(cluster, name, :code, f, [@module])
    end

    :ok
  end
end

defmodule LocalCluster.Collector do
  @moduledoc """
  The controller's end of the witnesses: keeps every event they forward, and places the
  kills. For `--kill N --after M` the witness on M holds M's probe right after its
  `probe_start`; the collector then flushes N's witness (nothing N said is lost), stops peer
  N, waits until its OS process is gone and no live peer lists it in `nodes()` any more, and
  releases M. The kill's time is when N was seen gone: the first `disconnect` of N any peer
  recorded, or its process's exit, whichever came first.
  """

  @name :inkworm_collector

  def name, do: @name

  @doc "Starts the collector for `kills` (`[{victim, after}]`, spec names)."
  def start(cluster, kills) do
    main = self()
    pid = spawn_link(fn -> init(main, cluster, kills) end)

    receive do
      {:inkworm_collecting, ^pid} -> pid
    end
  end

  @doc "Everything collected: `{events, kills}`, kills as `[{victim, after, t_abs | nil}]`."
  def dump(pid) do
    send(pid, {:inkworm_dump, self()})

    receive do
      {:inkworm_dump, ^pid, events, kills} -> {events, kills}
    end
  end

  defp init(main, cluster, kills) do
    Process.register(self(), @name)
    for {_victim, after_} <- kills, do: LocalCluster.Witness.arm(cluster, after_)
    send(main, {:inkworm_collecting, self()})
    loop(%{cluster: cluster, kills: kills, done: [], events: [], killed: []})
  end

  defp loop(state) do
    receive do
      {:inkworm_witnessed, %{kind: :held, node: node}} ->
        loop(held(state, LocalCluster.display(state.cluster, node)))

      {:inkworm_witnessed, event} ->
        loop(%{state | events: [event | state.events]})

      {:inkworm_dump, from} ->
        done = Map.new(state.done, fn {x, y, t} -> {{x, y}, t} end)
        kills = for {x, y} <- state.kills, do: {x, y, Map.get(done, {x, y})}
        send(from, {:inkworm_dump, self(), Enum.reverse(state.events), kills})
        loop(state)
    end
  end

  defp held(state, after_) do
    victims = for {x, ^after_} <- state.kills, do: x
    state = Enum.reduce(victims, state, &kill(&2, &1, after_))
    unless after_ in victims, do: LocalCluster.Witness.release(state.cluster, after_)
    state
  end

  defp kill(state, victim, after_) do
    cluster = state.cluster
    LocalCluster.Witness.flush(cluster, [victim])
    # Whatever the flush let through is ours; take it before the victim's channel closes.
    state = drain(state)
    :peer.stop(Map.fetch!(cluster.peers, victim))
    gone = await_gone(Map.fetch!(cluster.os_pid, victim))
    killed = [victim | state.killed]
    live = for {n, _} <- cluster.peers, n not in killed, do: n
    await_unlisted(cluster, live, LocalCluster.full(cluster, victim))
    LocalCluster.Witness.flush(cluster, live)
    state = drain(state)
    %{state | done: [{victim, after_, gone} | state.done], killed: killed}
  end

  @doc """
  When each kill was first seen: the victim's process exit, a peer's `disconnect` from it, or a
  call to it failing with `noconnection`, whichever came first (absolute µs; events' `t_us` are
  from `t0`). Kills not done stay `nil`.
  """
  def seen_gone(kills, events, t0, full) do
    for {x, y, gone} <- kills do
      victim = full.(x)

      evidence =
        for %{kind: kind} = e <- events,
            (kind == :disconnect and e.peer == victim) or
              (kind == :error and e.to == victim and noconnection?(e.reason)),
            do: Map.get_lazy(e, :t_abs, fn -> e.t_us + t0 end)

      {x, y, gone && Enum.min([gone | evidence])}
    end
  end

  defp noconnection?(reason), do: inspect(reason) =~ "noconnection"

  defp drain(state) do
    receive do
      {:inkworm_witnessed, %{kind: :held}} = held ->
        # another armed node started meanwhile: handle it after this kill, in order
        send(self(), held)
        state

      {:inkworm_witnessed, event} ->
        drain(%{state | events: [event | state.events]})
    after
      0 -> state
    end
  end

  # The victim's OS process has exited (its /proc entry gone, or a zombie): µs, absolute.
  defp await_gone(os_pid, deadline \\ LocalCluster.now() + 5_000_000) do
    cond do
      gone?(os_pid) ->
        LocalCluster.now()

      LocalCluster.now() > deadline ->
        System.cmd("kill", ["-KILL", os_pid])
        await_gone(os_pid, LocalCluster.now() + 5_000_000)

      true ->
        Process.sleep(1)
        await_gone(os_pid, deadline)
    end
  end

  defp gone?(os_pid) do
    case File.read("/proc/#{os_pid}/stat") do
      {:ok, stat} -> stat |> String.split(") ") |> List.last() |> String.starts_with?("Z")
      {:error, _} -> true
    end
  end

  defp await_unlisted(cluster, live, full, deadline \\ LocalCluster.now() + 10_000_000) do
    listing = Enum.filter(live, &(full in LocalCluster.call(cluster, &1, :erlang, :nodes, [])))

    cond do
      listing == [] ->
        :ok

      LocalCluster.now() > deadline ->
        raise LocalCluster.Failure, message: "#{Enum.join(listing, " ")} still list a killed node"

      true ->
        Process.sleep(1)
        await_unlisted(cluster, listing, full, deadline)
    end
  end
end
