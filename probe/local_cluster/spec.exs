# Spec file parsing for local_cluster.exs.

defmodule LocalCluster.Failure do
  @moduledoc "A run that cannot go on: `message` is the one stderr line, `code` the exit code."
  defexception [:message, code: 1]
end

defmodule LocalCluster.Spec do
  @moduledoc """
  The spec file: UTF-8, one directive a line, `#` starts a comment (at line start or after a
  blank). Names match `[A-Za-z0-9_-]+`.

      node a                      one per node, in file order (isolated nodes allowed)
      edge a b                    one per edge, in connection order: a calls connect_node(b)
      launch a                    required unless observe_only
      mode naive|fixed            default naive
      auto_connect always|never   default always; never => -kernel dist_auto_connect never
      timeout_ms 10000            erpc timeout; default infinity
      tolerant false|true         default false
      delay b 300                 sleep 300 ms right after b's probe_start (repeatable)
      kill d after b              stop peer d as soon as b's probe has started (repeatable)
      header graph bowtie.dot     extra trace header field, string value (repeatable)
      out /abs/path/trace.jsonl   required unless observe_only
      observe_only false|true     true: start, mesh, print the observed topology, stop
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
            observe_only: false

  @name ~r/\A[A-Za-z0-9_-]+\z/
  @reserved ~w(inkworm_trace launch mode source meta auto_connect)

  @doc "Reads and checks a spec file; raises `LocalCluster.Failure` (code 2) on any problem."
  def read!(path) do
    text = File.read!(path)

    text
    |> String.split("\n")
    |> Enum.with_index(1)
    |> Enum.reduce(%__MODULE__{}, fn {line, no}, spec -> parse_line(spec, line, no) end)
    |> finish()
  rescue
    e in File.Error -> fail("cannot read spec: #{Exception.message(e)}")
  end

  defp parse_line(spec, line, no) do
    text = String.replace(line, ~r/(^|\s)#.*/u, "")

    try do
      directive(spec, String.split(text), text)
    rescue
      e in LocalCluster.Failure -> fail("spec line #{no}: #{e.message}")
    end
  end

  # `out` and `header` values are the rest of the line (a path or a value may hold blanks).
  defp directive(spec, ["out", _ | _], text), do: %{spec | out: Path.expand(rest(text, 1))}

  defp directive(spec, ["header", key, _ | _], text) do
    if key in @reserved or not Regex.match?(~r/\A[a-z_]+\z/, key),
      do: fail("bad header field #{key}")

    %{spec | header: spec.header ++ [{key, rest(text, 2)}]}
  end

  defp directive(spec, words, _text), do: directive(spec, words)

  defp directive(spec, []), do: spec
  defp directive(spec, ["node", n]), do: %{spec | nodes: spec.nodes ++ [name(n)]}
  defp directive(spec, ["edge", a, b]), do: %{spec | edges: spec.edges ++ [{name(a), name(b)}]}
  defp directive(spec, ["launch", n]), do: %{spec | launch: name(n)}
  defp directive(spec, ["mode", m]), do: %{spec | mode: choice(m, ~w(naive fixed))}

  defp directive(spec, ["auto_connect", a]),
    do: %{spec | auto_connect: choice(a, ~w(always never))}

  defp directive(spec, ["timeout_ms", ms]), do: %{spec | timeout: integer(ms)}
  defp directive(spec, ["tolerant", b]), do: %{spec | tolerant: choice(b, ~w(false true))}
  defp directive(spec, ["observe_only", b]), do: %{spec | observe_only: choice(b, ~w(false true))}

  defp directive(spec, ["delay", n, ms]),
    do: %{spec | delays: Map.put(spec.delays, name(n), integer(ms))}

  defp directive(spec, ["kill", x, "after", y]),
    do: %{spec | kills: spec.kills ++ [{name(x), name(y)}]}

  defp directive(_spec, words), do: fail("unknown directive: #{Enum.join(words, " ")}")

  defp rest(text, words), do: String.trim(Regex.replace(~r/\A\s*(\S+\s+){#{words}}/u, text, ""))

  defp name(n), do: if(Regex.match?(@name, n), do: n, else: fail("bad name #{inspect(n)}"))

  defp choice(word, [_, _] = allowed) do
    if word in allowed,
      do: String.to_atom(word),
      else: fail("expected #{Enum.join(allowed, "|")}")
  end

  defp integer(word) do
    case Integer.parse(word) do
      {n, ""} when n >= 0 -> n
      _ -> fail("expected a non-negative integer, got #{word}")
    end
  end

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
end
