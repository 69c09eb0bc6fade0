# Console capture for local_cluster.exs.

defmodule LocalCluster.Console do
  @moduledoc """
  A minimal I/O server that collects what the peers print. The peers' stdio channels forward
  their console I/O to the group leader of the process that started them; this one keeps it
  out of our stdout and accepts `setopts`/`getopts` (the Elixir application sets them when it
  starts on a peer). Input requests get `:eof`.
  """

  @doc "Starts the collector."
  def start, do: spawn_link(fn -> loop([]) end)

  @doc "Everything printed so far, as lines."
  def lines(pid) do
    send(pid, {:inkworm_lines, self()})

    receive do
      {:inkworm_lines, ^pid, text} -> String.split(text, "\n", trim: true)
    end
  end

  defp loop(acc) do
    receive do
      {:io_request, from, reply_as, request} ->
        {reply, acc} = request(request, acc)
        send(from, {:io_reply, reply_as, reply})
        loop(acc)

      {:inkworm_lines, from} ->
        send(from, {:inkworm_lines, self(), IO.iodata_to_binary(Enum.reverse(acc))})
        loop(acc)
    end
  end

  defp request({:put_chars, encoding, chars}, acc), do: put(encoding, chars, acc)
  defp request({:put_chars, encoding, m, f, a}, acc), do: put(encoding, apply(m, f, a), acc)
  defp request({:put_chars, chars}, acc), do: put(:latin1, chars, acc)
  defp request({:setopts, _opts}, acc), do: {:ok, acc}
  defp request(:getopts, acc), do: {[binary: true, encoding: :unicode], acc}
  defp request({:get_geometry, _}, acc), do: {{:error, :enotsup}, acc}

  defp request({:requests, requests}, acc) do
    Enum.reduce(requests, {:ok, acc}, fn r, {_, acc} -> request(r, acc) end)
  end

  defp request(_input, acc), do: {:eof, acc}

  defp put(encoding, chars, acc) do
    case :unicode.characters_to_binary(chars, encoding) do
      text when is_binary(text) -> {:ok, [text | acc]}
      _ -> {{:error, :put_chars}, acc}
    end
  end
end
