// Search result snippets read like the page. Sphinx's search (searchtools.js) takes the text of the
// page's [role=main] element, which in this theme starts with the header's buttons (".ipynb", ".md",
// ".pdf") and holds the TeX source of every formula. Here the snippet is taken from the article
// alone, display math is left out, and inline math is shown as plain text with its common symbols.
(() => {
  const SYMBOLS = {
    alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ε", varepsilon: "ε", eta: "η", theta: "θ",
    lambda: "λ", mu: "μ", pi: "π", sigma: "σ", tau: "τ", phi: "φ", omega: "ω", Delta: "Δ", Sigma: "Σ",
    top: "ᵀ", sqrt: "√", sum: "Σ", partial: "∂", nabla: "∇", infty: "∞", cdot: "·", times: "×",
    odot: "⊙", in: "∈", to: "→", le: "≤", leq: "≤", ge: "≥", geq: "≥", approx: "≈", ne: "≠", neq: "≠",
    ldots: "…", dots: "…", mathbb: "", mathbf: "", operatorname: "", mathrm: "", text: "", left: "",
    right: "", tfrac: "", frac: "", lVert: "‖", rVert: "‖", lvert: "|", rvert: "|",
  };

  const plainMath = tex => tex
    .replace(/^\\\(|\\\)$/g, "")
    .replace(/\\mathbb\{R\}/g, "ℝ")
    .replace(/\\([A-Za-z]+)/g, (whole, name) => (name in SYMBOLS ? SYMBOLS[name] : name))
    .replace(/\\[,;:! ]/g, " ")
    .replace(/[{}]/g, "")
    .replace(/\s+/g, " ")
    .trim();

  const readable = htmlString => {
    const page = new DOMParser().parseFromString(htmlString, "text/html");
    page.querySelectorAll(".bd-header-article, div.math").forEach(element => element.remove());
    page.querySelectorAll("span.math").forEach(element => { element.textContent = plainMath(element.textContent); });
    return page.documentElement.outerHTML;
  };

  document.addEventListener("DOMContentLoaded", () => {
    if (typeof Search === "undefined" || !Search.htmlToText) return;
    const htmlToText = Search.htmlToText;
    Search.htmlToText = (htmlString, anchor) => htmlToText(readable(htmlString), anchor);
  });
})();
