# Fault injection for local_cluster.exs.

defmodule LocalCluster.Killer do
  @moduledoc """
  Fault injection for `kill X after Y`: polls Y over its stdio channel until Y's probe has
  started (the probe registers `:inkworm_probe` while it runs), then stops peer X.
  """

  @doc "Starts the poller; it reports once: `{:killed, pid, {x, y, t_abs_us | nil}}`."
  def start(cluster, {x, y}) do
    main = self()
    spawn_link(fn -> poll(main, cluster, x, y) end)
  end

  @doc "Cancels the pollers still waiting and collects every report."
  def collect(killers) do
    for pid <- killers do
      send(pid, :cancel)

      receive do
        {:killed, ^pid, report} -> report
      end
    end
  end

  defp poll(main, cluster, x, y) do
    receive do
      :cancel -> send(main, {:killed, self(), {x, y, nil}})
    after
      0 ->
        if started?(cluster, y) do
          t = LocalCluster.now()
          :peer.stop(Map.fetch!(cluster.peers, x))
          send(main, {:killed, self(), {x, y, t}})
        else
          Process.sleep(2)
          poll(main, cluster, x, y)
        end
    end
  end

  defp started?(cluster, y) do
    is_pid(LocalCluster.call(cluster, y, :erlang, :whereis, [:inkworm_probe], 1_000))
  catch
    :exit, _ -> false
  end
end
