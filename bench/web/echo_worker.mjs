// echo_worker.mjs — answers every message with its own data: the floor of one postMessage
// round trip between the page and a dedicated worker (engines.mjs hopBaseline).
self.onmessage = (ev) => self.postMessage(ev.data);
