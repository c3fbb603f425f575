/**
 * broker.ts — the SharedWorker that hands out direct MessagePorts between a database's
 * clients and its owner (tabs.ts), so a client's requests and their answers travel on a
 * port of their own instead of being cloned into every context that listens on the
 * database's BroadcastChannel.
 *
 * Protocol (one port per connected context; messages are objects with `k`):
 *  - {k: 'register', id, lock}: the context's TabEndpoint `id`; `lock` is a Web Lock the
 *    context holds while it lives (its client lock). The broker forgets the id when it can
 *    take that lock (the context closed, crashed or went away), or on {k: 'unregister', id}.
 *  - {k: 'link', from, to}: `from` wants a port to `to`. The broker makes a MessageChannel
 *    and posts {k: 'linked', peer: from, port} to `to` and {k: 'linked', peer: to, port}
 *    to `from` (the ports transferred), or {k: 'nolink', peer: to} to `from` when `to` is
 *    not registered (the caller then stays on the BroadcastChannel).
 * The broker holds no database state; if it is restarted, contexts register again at their
 * next join (tabs.ts) and links fall back to the BroadcastChannel meanwhile.
 */
interface Entry {
  port: MessagePort;
  watch: AbortController;
}

const ids = new Map<string, Entry>();

function forget(id: string, port?: MessagePort): void {
  const e = ids.get(id);
  if (!e || (port && e.port !== port)) return;
  e.watch.abort();
  ids.delete(id);
}

(self as unknown as { onconnect: (ev: MessageEvent) => void }).onconnect = (ev: MessageEvent) => {
  const port = ev.ports[0];
  port.onmessage = (m: MessageEvent) => {
    const d = m.data as { k: string; id?: string; lock?: string; from?: string; to?: string };
    if (d.k === 'register' && d.id && d.lock) {
      forget(d.id);
      const watch = new AbortController();
      ids.set(d.id, { port, watch });
      const id = d.id;
      navigator.locks.request(d.lock, { mode: 'shared', signal: watch.signal }, () => forget(id, port)).catch(() => undefined);
    } else if (d.k === 'unregister' && d.id) {
      forget(d.id, port);
    } else if (d.k === 'link' && d.from && d.to) {
      const to = ids.get(d.to);
      if (!to) {
        port.postMessage({ k: 'nolink', peer: d.to });
        return;
      }
      const ch = new MessageChannel();
      to.port.postMessage({ k: 'linked', peer: d.from, port: ch.port1 }, [ch.port1]);
      port.postMessage({ k: 'linked', peer: d.to, port: ch.port2 }, [ch.port2]);
    }
  };
};
