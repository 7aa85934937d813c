// The page: plain JavaScript, no build step. It lists the entries, signs the guestbook, and listens on
// the app's stream: a `revalidate` naming entries.list refetches the list (whoever added the entry),
// a `message` on entries.activity shows what just happened.
const api = "/api/v1";

async function loadEntries() {
  const answer = await (await fetch(`${api}/entries`)).json();
  const list = document.getElementById("entries");
  list.replaceChildren(...answer.data.entries.map((entry) => {
    const item = document.createElement("li");
    item.textContent = `${entry.name}: ${entry.text}`;  // textContent: entries are never HTML
    return item;
  }));
}

document.getElementById("sign").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const answer = await fetch(`${api}/entries`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(Object.fromEntries(new FormData(form))),  // {"name": ..., "text": ...}
  });
  const { error } = await answer.json();
  // A validation error lists what is wrong with each field; no need to refetch here, the stream will.
  document.getElementById("error").textContent =
      error ? (error.details ?? []).map((d) => `${d.path.join(".")}: ${d.message}`).join("; ") || error.message : "";
  if (!error) form.elements.text.value = "";
});

// One stream for the page; EventSource reconnects by itself and resumes where it stopped.
const stream = new EventSource(`${api}/sse/events?channels=revalidation,entries.activity`);
stream.addEventListener("revalidate", (event) => {
  const { queryKeys } = JSON.parse(event.data).data;
  if (queryKeys.some((key) => key.startsWith("entries.list"))) loadEntries();
});
stream.addEventListener("message", (event) => {
  const { channel, data } = JSON.parse(event.data);
  if (channel === "entries.activity") document.getElementById("activity").textContent = data.text;
});
stream.addEventListener("connected", loadEntries);  // also after a reconnect: catch up on what was missed

loadEntries();
