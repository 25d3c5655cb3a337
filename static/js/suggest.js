// Search suggestions for the search boxes (progressive enhancement: without JavaScript
// the form works the same, only without suggestions).
//
// An <input data-suggest="/suggest.json" list="ID"> gets, as the user types, the
// completions of its last word and the titles of matching datasets as the options of
// its <datalist id="ID">; the browser shows them accessibly (a native listbox). Answers
// that arrive late are dropped: only the answer to the latest text is shown.
const WAIT_MS = 150;

for (const input of document.querySelectorAll("input[data-suggest]")) {
  const list = document.getElementById(input.getAttribute("list") || "");
  const endpoint = input.dataset.suggest;
  if (!list || !endpoint) continue;
  let timer;
  let asked = 0;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = input.value;
      const ticket = ++asked;
      if (q.trim().length < 2) {
        list.replaceChildren();
        return;
      }
      const url = new URL(endpoint, document.baseURI);
      url.searchParams.set("q", q);
      url.searchParams.set("limit", "8");
      let answer;
      try {
        const response = await fetch(url, { headers: { Accept: "application/json" } });
        if (!response.ok) return;
        answer = await response.json();
      } catch {
        return; // offline or the server restarting: no suggestions this time
      }
      if (ticket !== asked) return;
      // The words typed before the last one stay in front of each completion.
      const head = q.replace(/\S*$/, "");
      const values = [
        ...(answer.words || []).map((w) => head + w.value),
        ...(answer.datasets || []).map((d) => d.title),
      ];
      list.replaceChildren(
        ...[...new Set(values)].map((value) => {
          const option = document.createElement("option");
          option.value = value;
          return option;
        }),
      );
    }, WAIT_MS);
  });
}
