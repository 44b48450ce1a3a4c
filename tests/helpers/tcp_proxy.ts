/**
 * A TCP proxy in front of the test database, to simulate an outage: `cut()`
 * drops every open connection and closes the port, as a stopped PostgreSQL
 * does (new connections are refused), until `restore()` listens again on
 * the same port.
 */
export interface TcpProxy {
  /** The loopback port to connect to instead of the target's. */
  port: number;
  /** The URL of `url` with its host and port swapped for the proxy's. */
  urlFor(url: string): string;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export function startTcpProxy(target: { hostname: string; port: number }): TcpProxy {
  let listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const open = new Set<Deno.Conn>();
  const closeQuietly = (conn: Deno.Conn) => {
    open.delete(conn);
    try {
      conn.close();
    } catch {
      // already closed
    }
  };
  const pipe = async (from: Deno.Conn, to: Deno.Conn) => {
    try {
      await from.readable.pipeTo(to.writable, { preventClose: true });
    } catch {
      // the other side went away, or cut() closed it
    }
    closeQuietly(from);
    closeQuietly(to);
  };
  const accept = async (current: Deno.Listener) => {
    try {
      for await (const client of current) {
        open.add(client);
        Deno.connect(target).then((server) => {
          if (!open.has(client)) return server.close();
          open.add(server);
          pipe(client, server);
          pipe(server, client);
        }, () => closeQuietly(client));
      }
    } catch {
      // cut() closed the listener
    }
  };
  let accepting = accept(listener);
  let down = false;
  return {
    port,
    urlFor(url) {
      const parsed = new URL(url);
      parsed.hostname = "127.0.0.1";
      parsed.port = String(port);
      return parsed.href;
    },
    cut() {
      if (down) return;
      down = true;
      // As a stopped server: the port refuses connections, and open ones are gone.
      listener.close();
      for (const conn of [...open]) closeQuietly(conn);
    },
    restore() {
      if (!down) return;
      // The port is ours again unless another process took it during the outage (then this throws).
      listener = Deno.listen({ hostname: "127.0.0.1", port });
      down = false;
      accepting = accept(listener);
    },
    async close() {
      this.cut();
      await accepting;
    },
  };
}
