# Spec file parsing for local_cluster.exs.

defmodule LocalCluster.Failure do
  @moduledoc "A run that cannot go on: `message` is the one stderr line, `code` the exit code."
  defexception [:message, code: 1]
end

defmodule LocalCluster.Lifeline do
  @moduledoc "What both drivers end by: their standard input's end, and one stderr line."

  @doc "Returns when standard input reaches its end (whoever started us is gone)."
  def wait_eof do
    case IO.binread(:stdio, :line) do
      data when is_binary(data) -> wait_eof()
      _eof_or_error -> :eof
    end
  end

  @doc """
  Runs a driver's `fun`; a `LocalCluster.Failure` it raises is one stderr line and its exit
  code, anything else an internal error (exit 1).
  """
  def guard(prefix, fun) do
    fun.()
  rescue
    e in LocalCluster.Failure -> halt(prefix, e.code, e.message)
    e -> halt(prefix, 1, "internal error: " <> Exception.message(e))
  catch
    kind, reason -> halt(prefix, 1, "internal error: #{inspect({kind, reason})}")
  end

  @doc "One line on stderr, `prefix: message`, and the VM halts with `code`."
  def halt(prefix, code, message) do
    IO.puts(:stderr, prefix <> ": " <> String.replace(message, "\n", " "))
    System.halt(code)
  end
end

defmodule LocalCluster.Spec do
  @moduledoc """
  The spec file: one Erlang term in external term format (`term_to_binary/1` of a map with
  string keys), read with `binary_to_term(bin, [:safe])`. Data, not text: no name or path can
  add a directive. Names match `[A-Za-z0-9_-]{1,200}`.

      "nodes"        ["a", ...]          in file order (isolated nodes allowed)
      "edges"        [["a", "b"], ...]   in connection order: a calls connect_node(b)
      "launch"       "a"                 required unless observe_only
      "mode"         "naive" | "fixed" | "ignore-launcher"   default naive
      "auto_connect" "always" | "never"  never => -kernel dist_auto_connect never
      "timeout_ms"   nil | 0..4294967295 erpc timeout; nil (default) = infinity
      "tolerant"     false | true        default false
      "delays"       [["b", 300], ...]   sleep 300 ms right after b's probe_start
      "kills"        [["d", "b"], ...]   stop peer d as soon as b's probe has started
      "header"       [["graph", "x"]]    extra trace header fields, string values
      "out"          "/abs/trace.jsonl"  required unless observe_only
      "observe_only" false | true        true: start, mesh, print the observed topology, stop
      "strategy"     "sequential" | "parallel"   default sequential
      "collect"      ["memory", ...]     built-in collectors (InkwormProbe.builtins/0)
      "collector"    nil | ["path", "elixir source"]   a user's collectors (opt-in)
      "deadline_ms"  nil | 1..4294967295 the recorder stops waiting for the worm; nil = never
  """

  defstruct nodes: [],
            edges: [],
            launch: nil,
            mode: :naive,
            auto_connect: :always,
            timeout: :infinity,
            tolerant: false,
            delays: %{},
            kills: [],
            header: [],
            out: nil,
            observe_only: false,
            strategy: :sequential,
            collect: [],
            collector_source: nil,
            deadline: :infinity

  @name ~r/\A[A-Za-z0-9_-]{1,200}\z/
  @reserved ~w(inkworm_trace launch mode source meta auto_connect cluster)
  @keys ~w(nodes edges launch mode auto_connect timeout_ms tolerant delays kills header out
           observe_only strategy collect collector deadline_ms)

  @doc "Reads and checks a spec file; raises `LocalCluster.Failure` (code 2) on any problem."
  def read!(path) do
    term =
      try do
        :erlang.binary_to_term(File.read!(path), [:safe])
      rescue
        e in File.Error -> fail("cannot read spec: #{Exception.message(e)}")
        ArgumentError -> fail("spec is not an external term")
      end

    unless is_map(term), do: fail("spec is not a map")
    unknown = Map.keys(term) -- @keys
    if unknown != [], do: fail("unknown spec keys #{inspect(unknown)}")
    term |> Enum.reduce(%__MODULE__{}, &field/2) |> finish()
  end

  defp field({"nodes", ns}, spec), do: %{spec | nodes: Enum.map(list(ns), &name/1)}

  defp field({"edges", es}, spec),
    do: %{spec | edges: Enum.map(list(es), fn e -> pair(e, &name/1, &name/1) end)}

  defp field({"launch", n}, spec), do: %{spec | launch: name(n)}

  defp field({"mode", m}, spec),
    do: %{spec | mode: choice(m, ~w(naive fixed ignore-launcher)) |> underscore()}

  defp field({"strategy", s}, spec), do: %{spec | strategy: choice(s, ~w(sequential parallel))}

  defp field({"collect", cs}, spec),
    do: %{
      spec
      | collect:
          Enum.map(list(cs), &choice(&1, InkwormProbe.builtins())) |> Enum.map(&Atom.to_string/1)
    }

  defp field({"collector", nil}, spec), do: spec

  defp field({"collector", c}, spec),
    do: %{spec | collector_source: pair(c, &string/1, &string/1)}

  defp field({"deadline_ms", nil}, spec), do: %{spec | deadline: :infinity}

  defp field({"deadline_ms", ms}, spec),
    do: %{spec | deadline: max(1, integer(ms, 4_294_967_295))}

  defp field({"auto_connect", a}, spec), do: %{spec | auto_connect: choice(a, ~w(always never))}
  defp field({"timeout_ms", nil}, spec), do: %{spec | timeout: :infinity}
  defp field({"timeout_ms", ms}, spec), do: %{spec | timeout: integer(ms, 4_294_967_295)}
  defp field({"tolerant", b}, spec), do: %{spec | tolerant: boolean(b)}
  defp field({"observe_only", b}, spec), do: %{spec | observe_only: boolean(b)}

  defp field({"delays", ds}, spec),
    do: %{spec | delays: Map.new(list(ds), fn d -> pair(d, &name/1, &integer(&1, 3_600_000)) end)}

  defp field({"kills", ks}, spec),
    do: %{spec | kills: Enum.map(list(ks), fn k -> pair(k, &name/1, &name/1) end)}

  defp field({"header", hs}, spec), do: %{spec | header: Enum.map(list(hs), &header/1)}
  defp field({"out", out}, spec), do: %{spec | out: Path.expand(string(out))}

  defp header(h) do
    {key, value} = pair(h, &string/1, &string/1)

    if key in @reserved or not Regex.match?(~r/\A[a-z_]{1,40}\z/, key),
      do: fail("bad header field #{inspect(key)}")

    {key, value}
  end

  defp underscore(atom), do: String.to_atom(String.replace(Atom.to_string(atom), "-", "_"))

  defp list(l) when is_list(l), do: l
  defp list(other), do: fail("expected a list, got #{inspect(other)}")

  defp pair([a, b], fa, fb), do: {fa.(a), fb.(b)}
  defp pair(other, _, _), do: fail("expected a pair, got #{inspect(other)}")

  defp string(s) when is_binary(s), do: if(String.valid?(s), do: s, else: fail("not UTF-8"))
  defp string(other), do: fail("expected a string, got #{inspect(other)}")

  defp name(n) do
    n = string(n)
    if Regex.match?(@name, n), do: n, else: fail("bad name #{inspect(n)}")
  end

  defp boolean(b) when is_boolean(b), do: b
  defp boolean(other), do: fail("expected true|false, got #{inspect(other)}")

  defp choice(word, allowed) do
    if word in allowed,
      do: String.to_atom(word),
      else: fail("expected #{Enum.join(allowed, "|")}, got #{inspect(word)}")
  end

  defp integer(n, max) when is_integer(n) and n >= 0 and n <= max, do: n
  defp integer(n, max), do: fail("expected an integer in 0..#{max}, got #{inspect(n)}")

  defp finish(spec) do
    known = MapSet.new(spec.nodes)
    pairs = Enum.map(spec.edges, fn {a, b} -> Enum.sort([a, b]) end)

    used =
      List.flatten(pairs) ++ Map.keys(spec.delays) ++ Enum.flat_map(spec.kills, &Tuple.to_list/1)

    cond do
      spec.nodes == [] ->
        fail("no node")

      length(spec.nodes) != MapSet.size(known) ->
        fail("duplicate node")

      Enum.any?(used, &(&1 not in known)) ->
        fail("unknown node in #{inspect(Enum.reject(used, &(&1 in known)))}")

      Enum.any?(spec.edges, fn {a, b} -> a == b end) ->
        fail("self edge")

      length(Enum.uniq(pairs)) != length(pairs) ->
        fail("duplicate edge")

      spec.observe_only ->
        spec

      spec.launch not in known ->
        fail("launch node missing or unknown")

      spec.out == nil ->
        fail("out missing")

      true ->
        spec
    end
  end

  defp fail(message), do: raise(LocalCluster.Failure, message: message, code: 2)

  @doc "A user's collectors: an Elixir file whose value is a list (or map) of {name, fun/0}."
  def user_collectors(nil), do: []

  def user_collectors({path, source}) do
    {value, _binding} = Code.eval_string(source, [], file: path)
    pairs = if is_map(value), do: Map.to_list(value), else: value

    unless is_list(pairs) and Enum.all?(pairs, &collector?/1) do
      raise LocalCluster.Failure,
        message: "#{path}: expected a list of {\"name\", fn -> value end}, got #{inspect(value)}",
        code: 2
    end

    pairs
  rescue
    e in [SyntaxError, TokenMissingError, CompileError] ->
      raise LocalCluster.Failure, message: "#{path}: #{Exception.message(e)}", code: 2
  end

  defp collector?({name, fun}), do: is_binary(name) and is_function(fun, 0)
  defp collector?(_), do: false
end
