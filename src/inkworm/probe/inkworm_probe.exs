# inkworm BEAM recorder: the seed's self-propagating worm, made to record trace v1.
# One pasteable file: paste it into iex on any node of a cluster (or `Code.require_file/1` it).

defmodule InkwormProbe do
  @moduledoc """
  Maps a (sparsely connected) cluster from one node, exactly like the seed's worm, and records
  what happened as inkworm trace v1 events.

      run = InkwormProbe.run(mode: :fixed)
      InkwormProbe.write_trace(run, "/tmp/trace.jsonl", header: [graph: "bowtie.dot"])

  `run/1` options:
    * `mode:` `:naive` (the seed as first written: remote calls inherit the launcher's group
      leader) or `:fixed` (each probe first resets its group leader to the local `init`).
    * `timeout:` erpc timeout of every remote call, ms or `:infinity` (default, as the seed).
    * `delays:` `%{node => ms}`, sleep right after probe_start on that node (fault injection).
    * `tolerant:` `false` (default, seed-faithful: a failed call propagates up and the run
      ends in `crash`) or `true` (the failed neighbour is recorded as `error`, treated as not
      reached, and the walk goes on).

  The worm module (`InkwormProbe.Worm`) is compiled in memory from quoted code with
  `Code.compile_quoted/2`, which hands back its object code directly: no temp dir, no code
  path change. It is purged and deleted from every node it reached on the way back up the call
  tree (each parent evicts its child over the connection it already uses), and from the launch
  node when the run returns.
  """

  @worm InkwormProbe.Worm

  # The worm, quoted so that it can be compiled in memory and its object code kept.
  defp worm_ast do
    quote location: :keep do
      defmodule InkwormProbe.Worm do
        @moduledoc """
        The worm itself: shipped with `:code.load_binary` over erpc, runs the seed's sequential
        depth-first flood fill. Each probe returns `{sub_map, events}` to its caller; a failure
        travels up as an error `{:inkworm_abort, kind, reason, events}`, where `{kind, reason}`
        is the failure the seed's code would have raised at that level.
        """

        @beacon :inkworm_probe
        @abort :inkworm_abort

        @doc "Runs the worm on this node (the launcher). Returns the raw run."
        def launch(binary, opts) do
          t0 = opts.t0 || :os.system_time(:microsecond)
          opts = Map.merge(opts, %{t0: t0, caller: nil, launch: node(), path: "0"})
          # The recorder learns the run's t0 even if the run never answers.
          if opts.sink, do: sink(opts.sink, {:inkworm_event, %{kind: :launched, t0: t0}})
          leader = Process.group_leader()

          {outcome, events} =
            try do
              run_probe(binary, opts)
            catch
              :error, {@abort, _kind, reason, events} -> {{:crash, reason}, events}
            else
              {map, events} -> {{:ok, map}, events}
            after
              :erlang.group_leader(leader, self())
            end

          %{
            launch: node(),
            t0: t0,
            outcome: outcome,
            events: events ++ [last_event(outcome, opts)]
          }
        end

        @doc "The seed's launcher entry point."
        def run_probe(binary, opts),
          do: probe("Launching from", MapSet.new(), binary, opts)

        @doc "The seed's remote entry point, called by a neighbour with its visited set."
        def run_probe(binary, visited, opts),
          do: probe("Hello from", visited, binary, opts)

        defp last_event({:ok, map}, opts), do: event(opts, :result, map: map)
        defp last_event({:crash, reason}, opts), do: event(opts, :crash, reason: reason)

        defp probe(greeting, visited, binary, opts) do
          opts = %{opts | path: Map.get(opts.paths, node(), opts.path)}

          if opts.mode == :fixed,
            do: :erlang.group_leader(:erlang.whereis(:init), self())

          started = event(opts, :probe_start, visited: sorted(visited))
          gate(opts)
          watcher = if opts.sink, do: nil, else: watch(opts)
          orphan = opts.caller && Process.monitor(opts.caller)
          named = beacon_on(opts)

          try do
            pause(opts)
            IO.puts("#{greeting} #{node()}")
            traverse(node(), visited, binary, opts, [started])
          catch
            :throw, {@abort, kind, reason, log} ->
              abort(kind, reason, log, watcher, opts)

            kind, reason ->
              abort(kind, strip(reason), [started], watcher, opts)
          else
            {map, log} ->
              seen = unwatch(watcher, opts)
              log = [event(opts, :probe_end, keys: sorted(Map.keys(map))) | log]
              {map, Enum.reverse(log, seen)}
          after
            beacon_off(named)
            leave_if_orphaned(orphan)
          end
        end

        defp traverse(me, visited, binary, opts, log) do
          neighbors = :erlang.nodes()
          log = [event(opts, :neighbors, nodes: neighbors) | log]
          log = collect(opts, log)
          own = %{me => reported(me, neighbors, opts)}

          if opts.strategy == :parallel do
            fan_out(me, neighbors, own, visited, binary, opts, log)
          else
            initial = {own, MapSet.put(visited, me), log}
            step = fn n, acc -> step(n, acc, binary, opts) end
            {adjacent, _visited, log} = Enum.reduce(neighbors, initial, step)
            {adjacent, log}
          end
        end

        # The seed's footnote: ignore mentions of the launcher except in its own nodes().
        defp reported(me, neighbors, %{mode: :ignore_launcher, launch: launch}) when me != launch,
          do: List.delete(neighbors, launch)

        defp reported(_me, neighbors, _opts), do: neighbors

        # The worm that works: each collector's value on this node, right after nodes().
        defp collect(%{collect: []}, log), do: log

        defp collect(opts, log) do
          values = Map.new(opts.collect, fn {name, how} -> {name, value(how, name)} end)
          [event(opts, :collect, values: values) | log]
        end

        defp collected(:builtin, name), do: builtin(name)
        defp collected(fun, _name), do: fun.()

        defp builtin("otp_release"), do: to_string(:erlang.system_info(:otp_release))
        defp builtin("elixir_version"), do: apply(System, :version, [])
        defp builtin("memory"), do: :erlang.memory(:total)
        defp builtin("process_count"), do: :erlang.system_info(:process_count)
        defp builtin("uptime"), do: elem(:erlang.statistics(:wall_clock), 0)

        # A collector that raises gives its failure, inspected, instead of a value.
        defp value(how, name) do
          jsonable(collected(how, name))
        catch
          kind, reason -> %{"failed" => inspect({kind, reason})}
        end

        # What JSON can carry stays as it is; anything else (a tuple, a pid) is its inspect/1.
        defp jsonable(v) when is_number(v) or is_boolean(v) or is_nil(v), do: v
        defp jsonable(v) when is_binary(v), do: if(String.valid?(v), do: v, else: inspect(v))
        defp jsonable(v) when is_atom(v), do: Atom.to_string(v)

        defp jsonable(v) when is_list(v),
          do: if(List.improper?(v), do: inspect(v), else: Enum.map(v, &jsonable/1))

        defp jsonable(v) when is_map(v) and not is_struct(v) do
          if Enum.all?(Map.keys(v), &(is_binary(&1) and String.valid?(&1))),
            do: Map.new(v, fn {k, x} -> {k, jsonable(x)} end),
            else: inspect(v)
        end

        defp jsonable(v), do: inspect(v)

        # The parallel worm (the seed's :erpc.multicall idea): every unvisited neighbour at
        # once, each with the visited set at fan-out (the targets included); the same node
        # reachable from two branches is probed twice.
        defp fan_out(me, neighbors, own, visited, binary, opts, log) do
          {log, targets} =
            Enum.reduce(neighbors, {log, []}, fn n, {log, targets} ->
              if MapSet.member?(visited, n),
                do: {[event(opts, :skip, neighbor: n) | log], targets},
                else: {log, [n | targets]}
            end)

          targets = Enum.reverse(targets)
          fan = MapSet.union(MapSet.put(visited, me), MapSet.new(targets))

          paths =
            targets |> Enum.with_index(1) |> Map.new(fn {n, i} -> {n, "#{opts.path}.#{i}"} end)

          try do
            {loaded, log} = load_all(targets, binary, opts, log)
            {subs, log} = call_all(loaded, fan, paths, binary, opts, log)
            {Enum.reduce(subs, own, &Map.merge(&2, &1)), log}
          after
            Enum.each(targets, &evict(&1, opts))
          end
        end

        defp load_all([], _binary, _opts, log), do: {[], log}

        defp load_all(targets, binary, opts, log) do
          log = Enum.reduce(targets, log, &[event(opts, :load_binary, to: &1) | &2])
          # A node another branch reached may run a probe already. code:load_binary would purge
          # the old code a running probe uses (killing it) and a probe deleting the module as
          # it leaves races a call just made: so the BIF loads (it never purges: with old code
          # in place it answers not_purged, and the current code is there), and nothing is
          # deleted during the run (the recorder removes the module from every peer after it).
          answers =
            :erpc.multicall(targets, :erlang, :load_module, [__MODULE__, binary], opts.timeout)

          outcomes =
            Enum.zip(targets, answers)
            |> Enum.map(fn
              {n, {:ok, {:module, _}}} -> {n, :ok}
              {n, {:ok, {:error, :not_purged}}} -> {n, :ok}
              {n, {:ok, other}} -> {n, {:failed, :error, other, []}}
              {n, {kind, reason}} -> {n, {:failed, kind, strip(reason), []}}
            end)

          settle(outcomes, log, opts, fn n, :ok, acc -> {[n | acc], nil} end)
        end

        defp call_all([], _fan, _paths, _binary, _opts, log), do: {[], log}

        defp call_all(targets, fan, paths, binary, opts, log) do
          log =
            Enum.reduce(targets, log, fn n, log ->
              [event(opts, :call, to: n, visited: sorted(fan), child: paths[n]) | log]
            end)

          args = [binary, fan, %{opts | caller: self(), paths: paths}]
          answers = :erpc.multicall(targets, __MODULE__, :run_probe, args, opts.timeout)

          outcomes =
            Enum.map(Enum.zip(targets, answers), fn
              {n, {:ok, answer}} ->
                {n, {:ok, answer}}

              {n, {:error, {:exception, {@abort, kind, reason, events}, _}}} ->
                {n, {:failed, kind, erpc_reason(kind, reason), events}}

              {n, {kind, reason}} ->
                {n, {:failed, kind, strip(reason), []}}
            end)

          settle(outcomes, log, opts, fn n, {:ok, {sub, events}}, subs ->
            returned = event(opts, :return, from: n, keys: sorted(Map.keys(sub)), child: paths[n])
            {[sub | subs], [returned | Enum.reverse(events)]}
          end)
        end

        # A multicall's answers in target order: each success through `ok`, each failure as an
        # `error`; the first failure then fails the probe unless it is tolerant.
        defp settle(outcomes, log, opts, ok) do
          {acc, log, first} =
            Enum.reduce(outcomes, {[], log, nil}, fn
              {n, {:failed, kind, reason, events}}, {acc, log, first} ->
                log = [event(opts, :error, to: n, reason: reason) | Enum.reverse(events, log)]
                {acc, log, first || {kind, reason}}

              {n, answer}, {acc, log, first} ->
                {acc, more} = ok.(n, answer, acc)
                {acc, (more || []) ++ log, first}
            end)

          case first do
            {kind, reason} when not opts.tolerant -> throw({@abort, kind, reason, log})
            _ -> {Enum.reverse(acc), log}
          end
        end

        defp step(n, {adj, visited, log}, binary, opts) do
          if MapSet.member?(visited, n) do
            {adj, visited, [event(opts, :skip, neighbor: n) | log]}
          else
            case visit(n, visited, binary, opts, log) do
              {:ok, sub, log} ->
                {Map.merge(adj, sub), MapSet.union(visited, MapSet.new(Map.keys(sub))), log}

              {:unreached, log} ->
                {adj, visited, log}
            end
          end
        end

        defp visit(n, visited, binary, opts, log) do
          log = [event(opts, :load_binary, to: n) | log]
          load = [__MODULE__, ~c"inkworm_probe.module", binary]

          try do
            case remote(n, :code, :load_binary, load, opts) do
              {:ok, _} ->
                call(n, visited, binary, opts, log)

              {:failed, kind, reason, events} ->
                failed(n, kind, reason, Enum.reverse(events, log), opts)
            end
          after
            evict(n, opts)
          end
        end

        defp call(n, visited, binary, opts, log) do
          log = [event(opts, :call, to: n, visited: sorted(visited)) | log]
          args = [binary, visited, %{opts | caller: self()}]

          case remote(n, __MODULE__, :run_probe, args, opts) do
            {:ok, {sub, events}} ->
              returned = event(opts, :return, from: n, keys: sorted(Map.keys(sub)))
              {:ok, sub, [returned | Enum.reverse(events, log)]}

            {:failed, kind, reason, events} ->
              failed(n, kind, reason, Enum.reverse(events, log), opts)
          end
        end

        defp failed(n, kind, reason, log, opts) do
          log = [event(opts, :error, to: n, reason: reason) | log]

          if opts.tolerant,
            do: {:unreached, log},
            else: throw({@abort, kind, reason, log})
        end

        # An erpc call that never raises. A child's abort is unwrapped into what erpc would
        # have raised for the seed's probe.
        defp remote(n, m, f, args, opts) do
          {:ok, :erpc.call(n, m, f, args, opts.timeout)}
        catch
          :error, {:exception, {@abort, kind, reason, events}, _stack} ->
            {:failed, kind, erpc_reason(kind, reason), events}

          kind, reason ->
            {:failed, kind, strip(reason), []}
        end

        defp erpc_reason(kind, reason),
          do: if(kind == :throw, do: reason, else: {:exception, reason})

        defp abort(kind, reason, log, watcher, opts) do
          :erlang.error({@abort, kind, reason, Enum.reverse(log, unwatch(watcher, opts))})
        end

        defp strip({:exception, reason, stack}) when is_list(stack),
          do: {:exception, reason}

        defp strip(reason), do: reason

        # Cleanup over the connection the visit used; never (auto-)connect to do it.
        defp evict(n, opts) do
          if n in :erlang.nodes() do
            if opts.strategy == :parallel do
              # Another branch's probe may still run there: nothing is removed during a
              # parallel run (the recorder removes the module from every peer after it).
              :ok
            else
              remote(n, :code, :delete, [__MODULE__], opts)
              remote(n, :code, :purge, [__MODULE__], opts)
            end
          end
        end

        # Nobody will evict a probe whose caller died: it removes itself (the purge ends it).
        defp leave_if_orphaned(nil), do: :ok

        defp leave_if_orphaned(ref) do
          receive do
            {:DOWN, ^ref, :process, _, _} ->
              :code.delete(__MODULE__)
              spawn(:code, :purge, [__MODULE__])
          after
            0 -> Process.demonitor(ref, [:flush])
          end
        end

        defp pause(opts), do: Process.sleep(Map.get(opts.delays, node(), 0))

        # Registered while the probe runs, so an outside observer can see it started.
        # A parallel worm's probes (more than one may run on a node) each under their path.
        defp beacon_on(opts) do
          name =
            if opts.strategy == :parallel and opts.caller,
              do: :"#{@beacon} #{opts.path}",
              else: @beacon

          Process.register(self(), name)
          name
        rescue
          ArgumentError -> false
        end

        defp beacon_off(false), do: :ok
        defp beacon_off(name), do: Process.unregister(name)

        # A local process subscribed to nodeup/nodedown, stamping each as it arrives.
        defp watch(opts) do
          owner = self()
          pid = spawn_link(fn -> watching(owner, opts) end)

          receive do
            {:inkworm_watching, ^pid} -> pid
          end
        end

        # High priority, so that a node event is stamped as soon as possible after it arrives.
        defp watching(owner, opts) do
          Process.flag(:priority, :high)
          :ok = :net_kernel.monitor_nodes(true, [:nodedown_reason])
          send(owner, {:inkworm_watching, self()})
          watch_loop(owner, opts, [])
        end

        defp watch_loop(owner, opts, seen) do
          receive do
            {:nodeup, peer, _info} ->
              watch_loop(owner, opts, [event(opts, :connect, peer: peer) | seen])

            {:nodedown, peer, info} ->
              down = event(opts, :disconnect, peer: peer, reason: info[:nodedown_reason])
              watch_loop(owner, opts, [down | seen])

            {:inkworm_unwatch, ^owner, t_asked} ->
              seen = Enum.map(seen, &cap(&1, t_asked))
              send(owner, {:inkworm_watched, self(), Enum.reverse(seen)})
          end
        end

        # What the watcher handled before the unwatch request was in its mailbox by then: its
        # stamp (taken when the watcher got a core) is capped at the request's time.
        defp cap(event, t_us), do: %{event | t_us: min(event.t_us, t_us)}

        defp unwatch(nil, _opts), do: []

        defp unwatch(pid, opts) do
          send(pid, {:inkworm_unwatch, self(), :os.system_time(:microsecond) - opts.t0})

          receive do
            {:inkworm_watched, ^pid, seen} -> seen
          end
        end

        # Every event has a node-unique, increasing `uid`; with a sink (the recorder's agent on
        # this node) it is also sent there at once, so that it survives whatever happens next.
        defp event(opts, kind, fields) do
          t_us = :os.system_time(:microsecond) - opts.t0
          uid = :erlang.unique_integer([:monotonic, :positive])
          common = %{kind: kind, node: node(), t_us: t_us, uid: uid, probe: opts.path}
          event = Map.merge(Map.new(fields), common)
          if opts.sink, do: sink(opts.sink, {:inkworm_event, event})
          event
        end

        defp sink(name, message) do
          send(name, message)
        rescue
          ArgumentError -> :no_sink
        end

        # With a sink, a probe that has just started waits for the agent's go: the recorder
        # may hold it there to place a fault (`--kill N --after M` stops N while M is held).
        defp gate(%{sink: nil}), do: :ok

        defp gate(opts) do
          ref = make_ref()

          if sink(opts.sink, {:inkworm_gate, self(), ref}) != :no_sink do
            receive do
              {^ref, :go} -> :ok
            end
          end
        end

        defp sorted(nodes), do: Enum.sort(Enum.to_list(nodes))
      end
    end
  end

  @defaults %{
    mode: :naive,
    timeout: :infinity,
    delays: %{},
    tolerant: false,
    strategy: :sequential,
    collect: [],
    sink: nil,
    t0: nil,
    paths: %{}
  }

  @doc "Compiles the worm, runs it from this node, removes it. Returns the run (ordered events)."
  def run(opts \\ []) do
    opts = options(opts)
    {compile_us, binary} = :timer.tc(&load_worm/0)

    run =
      try do
        apply(@worm, :launch, [binary, opts])
      after
        forget_worm()
      end

    run
    |> Map.merge(%{
      mode: opts.mode,
      options: opts,
      compile_us: compile_us,
      code_bytes: byte_size(binary)
    })
    |> Map.update!(:events, &InkwormProbe.Trace.order(&1, [], opts.strategy))
  end

  @doc """
  `run/1` as if typed into this node's own shell: the calling process's group leader becomes
  this node's `user` first. An attached recorder calls this over erpc, whose process would
  otherwise print to the recorder's node, so that a naive worm's nodes would connect to the
  recorder rather than to this launcher, as the seed's do.
  """
  def run_attached(opts) do
    :erlang.group_leader(:erlang.whereis(:user) || :erlang.whereis(:init), self())
    run(opts)
  end

  @doc "Writes a run as a trace v1 file; see `InkwormProbe.Trace.write/3` for the options."
  def write_trace(run, path, opts \\ []), do: InkwormProbe.Trace.write(run, path, opts)

  defp load_worm do
    forget_worm()
    [{@worm, binary}] = Code.compile_quoted(worm_ast(), "inkworm_probe.exs")
    binary
  end

  defp forget_worm do
    :code.purge(@worm)
    :code.delete(@worm)
    :code.purge(@worm)
  end

  @builtins ~w(otp_release elixir_version memory process_count uptime)

  @doc "The built-in collectors' names (`collect:` takes them, or `{name, fun/0}` pairs)."
  def builtins, do: @builtins

  defp collector(name) when name in @builtins, do: {name, :builtin}
  defp collector({name, fun}) when is_binary(name) and is_function(fun, 0), do: {name, fun}
  defp collector(other), do: other

  @doc "The options `run/1` takes, checked and with their defaults."
  def options(opts) do
    opts = Map.merge(@defaults, Map.new(opts))
    delays? = Enum.all?(opts.delays, fn {n, ms} -> is_atom(n) and is_integer(ms) and ms >= 0 end)
    timeout? = opts.timeout == :infinity or (is_integer(opts.timeout) and opts.timeout >= 0)
    opts = %{opts | collect: Enum.map(opts.collect, &collector/1)}
    collect? = Enum.all?(opts.collect, &match?({name, _} when is_binary(name), &1))

    good? =
      opts.mode in [:naive, :fixed, :ignore_launcher] and is_boolean(opts.tolerant) and delays? and
        timeout? and opts.strategy in [:sequential, :parallel] and collect? and
        (opts.sink == nil or is_atom(opts.sink)) and (opts.t0 == nil or is_integer(opts.t0))

    unless good?, do: raise(ArgumentError, "InkwormProbe.run/1: bad options #{inspect(opts)}")
    opts
  end
end

defmodule InkwormProbe.Trace do
  @moduledoc """
  Orders a run's events and writes them as trace v2 (JSON Lines: header, then one event a line;
  sets by reference to the visit order, see docs/trace-v2.md).

  Order: the causal list (each child's events spliced right after its parent's `call`), with
  the timed observations (`connect`, `disconnect`, `kill`) merged in by `t_us`; a `result`
  stays last. Node names are written as `Atom.to_string/1` of the node, or as given by the
  `rename:` map (full name => display name). `visited` and `keys` are sorted (they are sets),
  `nodes` and the result map's lists keep the runtime order. Reasons are `inspect/1` strings.
  """

  @timed [:connect, :disconnect, :kill]
  # Extra fields of each event kind, in the order they are written.
  @fields %{
    probe_start: [:visited],
    neighbors: [:nodes],
    skip: [:neighbor],
    load_binary: [:to],
    call: [:to, :visited],
    return: [:from, :keys],
    probe_end: [:keys],
    connect: [:peer],
    disconnect: [:peer, :reason],
    error: [:to, :reason],
    kill: [],
    collect: [:values],
    result: [:map],
    crash: [:reason]
  }
  # A parallel worm's events also name their probe (and a call or return its child's).
  @branch [
    :probe_start,
    :neighbors,
    :skip,
    :load_binary,
    :call,
    :return,
    :probe_end,
    :error,
    :collect,
    :result,
    :crash
  ]
  @reserved ~w(inkworm_trace launch mode source meta strategy)

  @doc "Causal events with the timed observations (and `extra` ones) merged in by time."
  def order(events, extra \\ [], strategy \\ :sequential) do
    {timed, causal} = Enum.split_with(events ++ extra, &(&1.kind in @timed))
    timed = Enum.sort_by(timed, & &1.t_us)
    # A parallel worm's branches run at once: their causal lists interleave by time.
    causal = if strategy == :parallel, do: Enum.sort_by(causal, & &1.t_us), else: causal

    case Enum.split(causal, -1) do
      {before, [%{kind: :result} = result]} -> merge(before, timed) ++ [result]
      _ -> merge(causal, timed)
    end
  end

  @doc """
  `causal` (in order) with `extra` events merged in by `t_us` (ties: `extra` by node-unique
  `uid`, after the causal event of the same time).
  """
  def merge_by_time(causal, extra), do: merge(causal, Enum.sort_by(extra, &{&1.t_us, &1.uid}))

  defp merge([], timed), do: timed
  # A kill comes before whatever happened at the same µs: it is why those happened.
  defp merge([c | _] = causal, [%{kind: :kill} = t | ts]) when t.t_us <= c.t_us,
    do: [t | merge(causal, ts)]

  defp merge(causal, []), do: causal
  defp merge([c | cs], [t | _] = timed) when c.t_us <= t.t_us, do: [c | merge(cs, timed)]
  defp merge(causal, [t | ts]), do: [t | merge(causal, ts)]

  @doc """
  Writes `run` to `path` atomically (temp file + rename). Options:
    * `header:` extra header fields (`graph`, `edge_order`, `auto_connect`, `cluster`, ...):
      strings, or lists of strings (`cluster`: the names of every node the run started)
    * `meta:` extra fields merged into the header's `meta` object
    * `rename:` `%{"full@name" => "display"}` applied to every node name
    * `extra_events:` more timed events (e.g. `%{kind: :kill, node: n, t_us: t}`) to merge in
  """
  def write(run, path, opts \\ []) do
    rename =
      Map.new(Keyword.get(opts, :rename, %{}), fn {k, v} -> {to_string(k), to_string(v)} end)

    name = fn n -> Map.get(rename, to_string(n), to_string(n)) end
    strategy = run.options.strategy

    events =
      Keyword.get_lazy(opts, :events, fn ->
        order(run.events, Keyword.get(opts, :extra_events, []), strategy)
      end)

    ctx = %{name: name, parallel: strategy == :parallel}

    {body_lines, _order} =
      events
      |> Enum.with_index()
      |> Enum.map_reduce({%{}, 0}, fn {event, seq}, order -> line(event, seq, ctx, order) end)

    lines = [header(run, name, opts) | body_lines]
    body = Enum.map(lines, &[InkwormProbe.JSON.encode(&1), ?\n])
    tmp = "#{path}.tmp#{System.unique_integer([:positive])}"

    try do
      File.write!(tmp, body)
      File.rename!(tmp, path)
    after
      File.rm(tmp)
    end

    {:ok, path}
  end

  defp header(run, name, opts) do
    extra = Enum.map(Keyword.get(opts, :header, []), fn {k, v} -> {to_string(k), text(v)} end)

    clash = Enum.find(extra, fn {k, _} -> k in @reserved end)
    if clash, do: raise(ArgumentError, "header field #{elem(clash, 0)} is reserved")

    required = [
      {"inkworm_trace", 2},
      {"launch", name.(run.launch)},
      {"mode", String.replace(to_string(run.mode), "_", "-")},
      {"source", "beam"}
    ]

    required =
      if run.options.strategy == :parallel,
        do: required ++ [{"strategy", "parallel"}],
        else: required

    {:object, required ++ extra ++ [{"meta", meta(run, name, opts)}]}
  end

  defp text(values) when is_list(values), do: Enum.map(values, &to_string/1)
  defp text(value), do: to_string(value)

  defp meta(run, name, opts) do
    {:ok, host} = :inet.gethostname()
    delays = Map.new(run.options.delays, fn {n, ms} -> {name.(n), ms} end)

    base = %{
      "otp" => to_string(:erlang.system_info(:otp_release)),
      "erts" => to_string(:erlang.system_info(:version)),
      "elixir" => System.version(),
      "host" => to_string(host),
      "timeout_ms" => if(run.options.timeout == :infinity, do: nil, else: run.options.timeout),
      "tolerant" => run.options.tolerant,
      "delays_ms" => delays,
      "compile_us" => run.compile_us,
      "code_bytes" => run.code_bytes
    }

    base =
      if run.options.collect == [],
        do: base,
        else: Map.put(base, "collect", Enum.map(run.options.collect, &elem(&1, 0)))

    Map.merge(base, Map.new(Keyword.get(opts, :meta, %{}), fn {k, v} -> {to_string(k), v} end))
  end

  # `order` is the visit order so far ({node => position, length}): trace v2 writes a visited
  # set that is a prefix of it, and keys that are a slice of it, by reference.
  defp line(event, seq, %{name: name} = ctx, order) do
    fields = Map.fetch!(@fields, event.kind)

    common = [
      {"seq", seq},
      {"t_us", event.t_us},
      {"node", name.(event.node)},
      {"kind", to_string(event.kind)}
    ]

    values = Enum.map(fields, &{to_string(&1), field(&1, Map.fetch!(event, &1), name, order)})
    {{:object, common ++ values ++ branch(event, ctx)}, visit(event, order)}
  end

  defp branch(%{kind: kind} = event, %{parallel: true}) when kind in @branch do
    child = if kind in [:call, :return], do: [{"child", event.child}], else: []
    [{"probe", event.probe} | child]
  end

  defp branch(_event, _ctx), do: []

  defp visit(%{kind: :probe_start, node: node}, {positions, length} = order) do
    if Map.has_key?(positions, node),
      do: order,
      else: {Map.put(positions, node, length), length + 1}
  end

  defp visit(_event, order), do: order

  defp field(key, set, name, {positions, length}) when key in [:visited, :keys] do
    indices = Enum.map(set, &Map.get(positions, &1))
    size = Enum.count(indices)

    cond do
      size == 0 ->
        %{"prefix" => 0}

      nil in indices or size != Enum.count(Enum.uniq(indices)) ->
        Enum.sort(Enum.map(set, name))

      Enum.max(indices) == size - 1 ->
        %{"prefix" => size}

      Enum.max(indices) - Enum.min(indices) == size - 1 and Enum.max(indices) < length ->
        %{"slice" => [Enum.min(indices), Enum.max(indices) + 1]}

      true ->
        Enum.sort(Enum.map(set, name))
    end
  end

  defp field(key, value, name, _order), do: field(key, value, name)
  defp field(:nodes, nodes, name), do: Enum.map(nodes, name)
  defp field(:reason, reason, _name), do: inspect(reason)
  defp field(:values, values, _name), do: values
  defp field(:map, map, name), do: Map.new(map, fn {n, ns} -> {name.(n), Enum.map(ns, name)} end)
  defp field(_node_field, node, name), do: name.(node)
end

defmodule InkwormProbe.JSON do
  @moduledoc """
  A small RFC 8259 encoder (Elixir 1.14 has no JSON module). Encodes `nil`/`true`/`false`,
  integers, floats, UTF-8 strings (escaping `"`, `\\` and control characters, passing other
  unicode through), other atoms as strings, lists, maps (keys sorted) and `{:object, pairs}`
  for objects whose key order matters.
  """

  @doc "Encodes `value` to a JSON binary."
  def encode(value), do: IO.iodata_to_binary(value(value))

  defp value(nil), do: "null"
  defp value(true), do: "true"
  defp value(false), do: "false"
  defp value(n) when is_integer(n), do: Integer.to_string(n)
  defp value(x) when is_float(x), do: :erlang.float_to_binary(x, [:short])
  defp value(s) when is_binary(s), do: string(s)
  defp value(a) when is_atom(a), do: string(Atom.to_string(a))

  defp value(list) when is_list(list),
    do: [?[, Enum.intersperse(Enum.map(list, &value/1), ?,), ?]]

  defp value({:object, pairs}), do: object(pairs)

  defp value(map) when is_map(map),
    do: object(Enum.sort(Enum.map(map, fn {k, v} -> {key(k), v} end)))

  defp object(pairs) do
    members = Enum.map(pairs, fn {k, v} -> [string(key(k)), ?:, value(v)] end)
    [?{, Enum.intersperse(members, ?,), ?}]
  end

  defp key(k) when is_binary(k), do: k
  defp key(k) when is_atom(k), do: Atom.to_string(k)

  defp string(s) do
    unless String.valid?(s), do: raise(ArgumentError, "not UTF-8: #{inspect(s)}")
    [?", escape(s), ?"]
  end

  @short %{
    ?" => ~S(\"),
    ?\\ => ~S(\\),
    ?\n => ~S(\n),
    ?\r => ~S(\r),
    ?\t => ~S(\t),
    ?\b => ~S(\b),
    ?\f => ~S(\f)
  }

  defp escape(<<>>), do: []
  defp escape(<<c, rest::binary>>) when is_map_key(@short, c), do: [@short[c] | escape(rest)]
  defp escape(<<c, rest::binary>>) when c < 0x20, do: [control(c) | escape(rest)]
  defp escape(<<c, rest::binary>>), do: [c | escape(rest)]

  defp control(c), do: "\\u" <> String.pad_leading(Integer.to_string(c, 16), 4, "0")
end
