# The peers of one local cluster (the seed's LocalCluster).

defmodule LocalCluster do
  @moduledoc """
  One `:peer` per spec node (stdio connection, `-connect_all false`), meshed by calling
  `:net_kernel.connect_node/1` on the nodes in edge order, as in the seed. The controller is
  not part of the cluster: it only talks to the peers over their stdio channels.

  Private to the run: every peer listens on 127.0.0.1 only (`inet_dist_use_interface`, long
  names `@127.0.0.1`, so no host name is looked up), registers in the run's private epmd, and
  takes its cookie from `$HOME/.erlang.cookie`, where HOME is the run's private folder (the
  recorder writes a fresh random cookie there; it is never on a command line or in the
  environment). Each node name carries 64 random bits of its own, so no name can be guessed
  from another, nor taken before the peer registers it.
  """

  defstruct [:peers, :names, :nodes, :console, start_us: %{}, os_pids: [], os_pid: %{}]

  @doc "Starts the peers; their console output is captured (see `console/1`)."
  def start(spec) do
    console = LocalCluster.Console.start()
    leader = Process.group_leader()
    cluster = %__MODULE__{peers: %{}, names: %{}, nodes: %{}, console: console}
    # The peer gen_servers inherit this group leader: peer output must not reach our stdout.
    Process.group_leader(self(), console)

    try do
      boot_all(cluster, spec)
    after
      Process.group_leader(self(), leader)
    end
  end

  # All peers boot at once (`wait_boot: {self(), tag}`: `:peer.start` returns at once and each
  # peer reports when it runs); `start_us` is each one's time from the common start.
  defp boot_all(cluster, spec) do
    t = now()
    tag = make_ref()

    {cluster, pending} =
      Enum.reduce(spec.nodes, {cluster, %{}}, fn name, {cluster, pending} ->
        case catch_exit(fn -> :peer.start(options(name, spec, tag)) end) do
          {:ok, {:ok, pid, node}} ->
            cluster = %{
              cluster
              | peers: Map.put(cluster.peers, name, pid),
                names: Map.put(cluster.names, node, name),
                nodes: Map.put(cluster.nodes, name, node)
            }

            {cluster, Map.put(pending, pid, name)}

          failed ->
            fail(cluster, name, failed)
        end
      end)

    await_boot(cluster, pending, tag, t)
  end

  defp await_boot(cluster, pending, _tag, _t) when pending == %{}, do: cluster

  defp await_boot(cluster, pending, tag, t) do
    receive do
      {^tag, {:started, _node, pid}} ->
        name = Map.fetch!(pending, pid)
        booted = now() - t

        case catch_exit(fn -> prepare(pid) end) do
          {:ok, os_pid} ->
            cluster = %{
              cluster
              | start_us: Map.put(cluster.start_us, name, booted),
                os_pids: [os_pid | cluster.os_pids],
                os_pid: Map.put(cluster.os_pid, name, os_pid)
            }

            await_boot(cluster, Map.delete(pending, pid), tag, t)

          failed ->
            fail(cluster, name, failed)
        end

      {^tag, other} ->
        name = Enum.find_value(pending, "a peer", fn {pid, n} -> other_pid(other, pid, n) end)
        fail(cluster, name, {:error, other})
    after
      60_000 -> fail(cluster, Enum.join(Map.values(pending), " "), {:error, :boot_timeout})
    end
  end

  defp other_pid(reason, pid, name), do: if(inspect(reason) =~ inspect(pid), do: name)

  defp fail(cluster, name, {:error, reason}) do
    stop(cluster)
    said = Enum.join(console(cluster), " ")

    raise LocalCluster.Failure,
      message: "peer #{name} failed to start: #{inspect(reason)} #{said}"
  end

  defp fail(cluster, name, other), do: fail(cluster, name, {:error, other})

  defp options(name, spec, tag) do
    never = if spec.auto_connect == :never, do: ~w(-kernel dist_auto_connect never), else: []
    private = ~w(-connect_all false -start_epmd false -kernel inet_dist_use_interface {127,0,0,1})
    args = Enum.map(private ++ never, &String.to_charlist/1)
    random = Base.encode16(:crypto.strong_rand_bytes(8), case: :lower)

    %{
      name: String.to_atom("iw#{random}_#{name}"),
      host: ~c"127.0.0.1",
      longnames: true,
      connection: :standard_io,
      args: args,
      exec: exec(),
      wait_boot: {self(), tag}
    }
  end

  # A peer is ready once it has the Elixir code path (the seed's gotcha); returns its OS pid.
  defp prepare(pid) do
    :peer.call(pid, :code, :add_pathsa, [:code.get_path()])
    List.to_string(:peer.call(pid, :os, :getpid, []))
  end

  # erl with its stderr sent into the stdio channel, where the console collector gets it (the
  # channel passes text through), so that a peer never writes on our stderr.
  defp exec do
    erl = System.find_executable("erl") || raise(LocalCluster.Failure, message: "erl not found")
    {~c"/bin/sh", [~c"-c", ~c"exec \"$0\" \"$@\" 2>&1", String.to_charlist(erl)]}
  end

  @doc """
  Connects the edges as the seed's mesh does, each node's connections in edge order: edges in
  rounds, an edge in the round after the last one that touched either of its nodes, so a
  round's edges share no node and connect at once (`:erlang.nodes()` lists a node's peers in
  the order its own connections were made; other nodes' connections do not move them).
  """
  def mesh(cluster, edges) do
    for round <- rounds(edges) do
      round
      |> Enum.map(fn {a, b} ->
        Task.async(fn ->
          {a, b, call(cluster, a, :net_kernel, :connect_node, [full(cluster, b)])}
        end)
      end)
      |> Task.await_many(60_000)
      |> Enum.each(fn
        {_a, _b, true} -> :ok
        {a, b, _} -> raise LocalCluster.Failure, message: "connect_node #{a} -> #{b} failed"
      end)
    end
  end

  @doc "The edges in rounds: each in the round after the last earlier edge on one of its nodes."
  def rounds(edges) do
    {placed, _last} =
      Enum.map_reduce(edges, %{}, fn {a, b}, last ->
        r = max(Map.get(last, a, -1), Map.get(last, b, -1)) + 1
        {{r, {a, b}}, Map.merge(last, %{a => r, b => r})}
      end)

    placed
    |> Enum.group_by(&elem(&1, 0), &elem(&1, 1))
    |> Enum.sort()
    |> Enum.map(&elem(&1, 1))
  end

  @doc "Each live node's `nodes()`, display names, runtime order."
  def observe(cluster, skip \\ []) do
    for {name, _pid} <- cluster.peers, name not in skip, into: %{} do
      {name, Enum.map(call(cluster, name, :erlang, :nodes, []), &display(cluster, &1))}
    end
  end

  @doc "Runs `m.f(a)` on a peer over its stdio channel."
  def call(cluster, name, m, f, a, timeout \\ 15_000) do
    :peer.call(Map.fetch!(cluster.peers, name), m, f, a, timeout)
  end

  def full(cluster, name), do: Map.fetch!(cluster.nodes, name)
  def display(cluster, node), do: Map.get(cluster.names, node, Atom.to_string(node))

  def rename(cluster),
    do: Map.new(cluster.names, fn {node, name} -> {Atom.to_string(node), name} end)

  @doc "Console lines the peers printed (the seed's Launching/Hello lines among them)."
  def console(cluster), do: LocalCluster.Console.lines(cluster.console)

  @doc """
  Stops every peer still running (already stopped ones are skipped), then waits until their
  OS processes are gone (a peer halts when its stdin closes); after 5 s it kills them.
  """
  def stop(cluster) do
    for {_name, pid} <- cluster.peers, do: catch_exit(fn -> :peer.stop(pid) end)
    await_exit(cluster.os_pids, now() + 5_000_000)
  end

  defp await_exit(os_pids, deadline) do
    alive = Enum.filter(os_pids, &File.exists?("/proc/#{&1}"))

    cond do
      alive == [] ->
        :ok

      now() > deadline ->
        Enum.each(alive, &System.cmd("kill", ["-KILL", &1]))

      true ->
        Process.sleep(10)
        await_exit(alive, deadline)
    end
  end

  defp catch_exit(fun) do
    {:ok, fun.()}
  catch
    kind, reason when kind in [:exit, :error] -> {:error, reason}
  end

  def now, do: :os.system_time(:microsecond)
end
