# Attach to a live cluster inkworm did not start: run the worm from one of its nodes, trace it,
# clean up after it, and say what it touched.
# Usage: elixir --name|--sname inkworm-X --erl "-dist_listen false -hidden -start_epmd false
#        -kernel dist_auto_connect never" src/inkworm/probe/attach.exs SPEC_FILE
# (HOME: a private folder holding the cluster's cookie; ends when its stdin closes)

probe = Code.compile_file("inkworm_probe.exs", __DIR__)
Code.require_file("local_cluster/spec.exs", __DIR__)

defmodule Attach do
  @moduledoc """
  Prints one JSON report on stdout and exits 0 when a trace was written (also one that ends
  in `crash`); otherwise one line on stderr and exit code 2 (usage, spec) or 3 (the cluster:
  no answer, a refused cookie, no Elixir, a node lost).

  inkworm's node is hidden and listens nowhere (`-dist_listen false`, no epmd of its own),
  and never connects by itself (`dist_auto_connect never`): its one connection is the one
  it makes to NODE. Everything after the run reaches the other nodes over the worm's own
  call tree (nested erpc through the nodes that called each other), so cleaning up makes no
  connection either.

  Spec (an external term, a map with string keys): "node" (the launcher, a full node name),
  "mode", "strategy", "timeout_ms", "tolerant", "collect", "collector", "deadline_ms",
  "out".
  """

  alias LocalCluster.{Failure, Spec}

  @pasted [InkwormProbe, InkwormProbe.Trace, InkwormProbe.JSON]
  @worm InkwormProbe.Worm
  @hop_ms 10_000

  @unload [
    {"purge", {:code, :purge, [@worm]}},
    {"delete", {:erlang, :delete_module, [@worm]}},
    {"purged", {:code, :purge, [@worm]}}
  ]

  @after_run [
    {"nodes", {:erlang, :nodes, []}},
    {"processes", {:erlang, :system_info, [:process_count]}},
    {"worm_loaded", {:erlang, :module_loaded, [@worm]}},
    {"worm_old_code", {:erlang, :check_old_code, [@worm]}},
    {"probing", {:erlang, :whereis, [:inkworm_probe]}},
    {"elixir", {:code, :which, [Enum]}}
  ]

  def main([path], probe), do: LocalCluster.Lifeline.guard("attach", fn -> run(path, probe) end)
  def main(_, _), do: halt(2, "usage: elixir attach.exs SPEC_FILE")

  defp run(path, probe) do
    t_start = now()
    lifeline()
    spec = read!(path)
    launcher = spec.node
    connect!(launcher)
    elixir!(launcher)
    nodes_before = :erpc.call(launcher, :erlang, :nodes, [], @hop_ms)
    pasted_bytes = paste(launcher, probe)
    {run, worm_call_us} = launch(launcher, spec)
    tree = tree(run.events, launcher)
    if spec.strategy == :parallel, do: each(tree, @unload)
    after_run = jsonable(each(tree, @after_run))
    unpaste(launcher)
    pasted_after = loaded(launcher, @pasted)
    write(run, spec)
    connected = Enum.map(:erlang.nodes(:connected), &Atom.to_string/1)
    :erlang.disconnect_node(launcher)

    report = %{
      "ok" => true,
      "outcome" => outcome(run.outcome),
      "inkworm_node" => Atom.to_string(node()),
      "inkworm_connected" => connected,
      "launcher_nodes_before" => Enum.map(nodes_before, &Atom.to_string/1),
      "reached" => Enum.map(Map.keys(tree), &Atom.to_string/1),
      "after" => after_run,
      "pasted_loaded_after" => pasted_after,
      "pasted_bytes" => pasted_bytes,
      "code_bytes" => run.code_bytes,
      "worm_call_us" => worm_call_us,
      "total_us" => now() - t_start
    }

    IO.puts(InkwormProbe.JSON.encode(report))
    System.halt(0)
  end


  defp jsonable(v) when is_map(v), do: Map.new(v, fn {k, x} -> {to_string(k), jsonable(x)} end)
  defp jsonable(v) when is_list(v) and v != [] and is_integer(hd(v)), do: to_string(v)
  defp jsonable(v) when is_list(v), do: Enum.map(v, &jsonable/1)
  defp jsonable(v) when is_pid(v), do: inspect(v)
  defp jsonable(v) when is_tuple(v), do: inspect(v)
  defp jsonable(:undefined), do: nil
  defp jsonable(v) when is_atom(v) and not is_boolean(v) and not is_nil(v), do: Atom.to_string(v)
  defp jsonable(v), do: v

  defp now, do: :os.system_time(:microsecond)

  defp read!(path) do
    term =
      try do
        :erlang.binary_to_term(File.read!(path), [:safe])
      rescue
        _ -> fail(2, "cannot read the spec #{path}")
      end

    node = Map.fetch!(term, "node")

    unless Regex.match?(~r/\A[A-Za-z0-9_-]{1,200}@[A-Za-z0-9_.-]{1,255}\z/, node),
      do: fail(2, "bad node name #{inspect(node)}")

    timeout = if term["timeout_ms"], do: term["timeout_ms"], else: :infinity
    deadline = if term["deadline_ms"], do: term["deadline_ms"], else: :infinity
    collector = if term["collector"], do: List.to_tuple(term["collector"]), else: nil

    %{
      node: String.to_atom(node),
      mode: String.to_atom(String.replace(term["mode"], "-", "_")),
      strategy: String.to_atom(term["strategy"]),
      timeout: timeout,
      tolerant: term["tolerant"] == true,
      collect: term["collect"] ++ Spec.user_collectors(collector),
      deadline: deadline,
      out: term["out"]
    }
  end

  # One connection, to the launcher: a refused cookie and an absent node are told apart by
  # asking the launcher's host's epmd whether the name is registered there.
  defp connect!(launcher) do
    kind = if :net_kernel.longnames(), do: "long", else: "short"

    unless :net_kernel.connect_node(launcher) == true do
      [name, host] = String.split(Atom.to_string(launcher), "@", parts: 2)

      case :erl_epmd.port_please(String.to_charlist(name), String.to_charlist(host), 5_000) do
        {:port, _, _} ->
          fail(3, "#{launcher} refused the connection: the cookie is not the cluster's, " <>
            "or it does not use #{kind} names (--name-kind)")

        :noport ->
          known =
            case :erl_epmd.names(String.to_charlist(host)) do
              {:ok, names} -> Enum.map_join(names, " ", fn {n, _} -> to_string(n) end)
              _ -> ""
            end

          fail(3, "#{launcher} does not answer: epmd at #{host} knows no #{name}" <>
            if(known == "", do: "", else: " (it knows: #{known})"))

        _ ->
          fail(3, "#{launcher} does not answer: no epmd at #{host} (port " <>
            "#{System.get_env("ERL_EPMD_PORT") || "4369"})")
      end
    end
  end

  # The worm is Elixir (compiled on the launcher, run everywhere): the launcher must run it.
  defp elixir!(launcher) do
    case :erpc.call(launcher, :code, :which, [Enum], @hop_ms) do
      :non_existing ->
        fail(3, "#{launcher} has no Elixir stdlib on its code path (the worm is Elixir)")

      _ ->
        apps = :erpc.call(launcher, :application, :which_applications, [], @hop_ms)

        unless List.keymember?(apps, :elixir, 0),
          do: fail(3, "#{launcher} does not run Elixir (its :elixir application is not started)")
    end

    if loaded(launcher, @pasted) != [] do
      fail(3, "#{launcher} already has inkworm's probe loaded (another run?): not touching it")
    end
  rescue
    e in ErlangError -> fail(3, "#{launcher}: #{inspect(e.original)}")
  catch
    :error, {:erpc, reason} -> fail(3, "#{launcher}: #{inspect(reason)}")
  end

  # The seed's "paste the probe into iex on the launch node".
  defp paste(launcher, probe) do
    modules = for {m, binary} <- probe, m in @pasted, do: {m, binary}

    :persistent_term.put(:attach_pasted, launcher)

    for {module, binary} <- modules do
      {:module, ^module} =
        :erpc.call(launcher, :code, :load_binary, [module, ~c"inkworm_probe.exs", binary],
          @hop_ms)
    end

    Enum.sum(for {_, binary} <- modules, do: byte_size(binary))
  end

  # Purging kills a process still running the code: a worm past its deadline stops there.
  defp unpaste(launcher, timeout \\ @hop_ms) do
    for m <- [@worm | @pasted], f <- [:delete, :purge],
        do: :erpc.call(launcher, :code, f, [m], timeout)

    :persistent_term.erase(:attach_pasted)
  end

  defp launch(launcher, spec) do
    opts = [
      mode: spec.mode,
      timeout: spec.timeout,
      tolerant: spec.tolerant,
      strategy: spec.strategy,
      collect: spec.collect
    ]

    t_call = now()

    run =
      try do
        :erpc.call(launcher, InkwormProbe, :run_attached, [opts], spec.deadline)
      catch
        :error, {:erpc, :timeout} ->
          unpaste(launcher)

          fail(3, "the worm had not answered after #{spec.deadline / 1000} s (--deadline): " <>
            "stopped on #{launcher} (its probe removed there); a branch it had started " <>
            "removes itself when it ends")

        :error, {:erpc, :noconnection} ->
          fail(3, "#{launcher} went down during the run")

        kind, reason ->
          fail(3, "the run on #{launcher} failed: #{inspect({kind, reason})}")
      end

    {run, now() - t_call}
  end

  defp outcome({kind, _}), do: Atom.to_string(kind)

  # Each node the worm was loaded on, with the path of nodes that leads there from the
  # launcher along the calls (each hop a connection the walk used).
  defp tree(events, launcher) do
    Enum.reduce(events, %{launcher => []}, fn
      %{kind: :load_binary, node: from, to: to}, paths when is_map_key(paths, from) ->
        Map.put_new(paths, to, paths[from] ++ [to])

      _, paths ->
        paths
    end)
  end

  # `calls` (named `{m, f, a}`s of OTP's own modules: no code of ours runs there) on every
  # node of the tree, reached from the launcher down the tree's own connections; a node that
  # cannot be reached says why.
  defp each(tree, calls) do
    launcher = Enum.find(Map.keys(tree), &(tree[&1] == []))

    Map.new(tree, fn {n, path} ->
      result =
        try do
          Map.new(calls, fn {name, mfa} -> {name, relay([launcher | path], mfa)} end)
        catch
          kind, reason -> %{"unreachable" => inspect({kind, reason})}
        end

      {Atom.to_string(n), result}
    end)
  end

  # One call at the end of `path`, each hop an erpc call made by the node before it.
  defp relay(path, mfa) do
    {n, m, f, a} = hop(path, mfa)
    :erpc.call(n, m, f, a, @hop_ms * length(path))
  end

  defp hop([n], {m, f, a}), do: {n, m, f, a}

  defp hop([n | rest], mfa) do
    {next, m, f, a} = hop(rest, mfa)
    {n, :erpc, :call, [next, m, f, a, @hop_ms * length(rest)]}
  end

  defp loaded(launcher, modules) do
    for m <- modules,
        :erpc.call(launcher, :erlang, :module_loaded, [m], @hop_ms) or
          :erpc.call(launcher, :erlang, :check_old_code, [m], @hop_ms),
        do: inspect(m)
  end

  defp write(run, spec) do
    {:ok, _} = InkwormProbe.write_trace(run, spec.out, meta: %{"driver" => "attach.exs"})
  rescue
    e -> fail(1, "cannot write the trace: #{Exception.message(e)}")
  end

  defp lifeline do
    main = self()

    spawn(fn ->
      :eof = LocalCluster.Lifeline.wait_eof()
      # the main process first: the unpaste below fails its run, which must not halt us
      :erlang.suspend_process(main)
      # Ctrl-C or a killed recorder: take the probe off the launcher before going
      launcher = :persistent_term.get(:attach_pasted, nil)

      if launcher do
        try do
          unpaste(launcher, 2_000)
        catch
          _, _ -> :ok
        end
      end

      halt(1, "the recorder is gone (stdin closed): detached")
    end)
  end


  defp fail(code, message), do: raise(Failure, message: message, code: code)

  defp halt(code, message), do: LocalCluster.Lifeline.halt("attach", code, message)
end

Attach.main(System.argv(), probe)
