// Prepares the single-page build of an edition for printing (bookbuild/pdf.py runs this in
// Chromium before Page.printToPDF): every chapter a top-level heading (the PDF's bookmarks
// come from the headings), a title page and a table of contents, solutions unfolded, links
// within the page made internal, maths typeset, wide tables and formulas scaled to the column.
// arguments: the print stylesheet, {title, edition, author, contents}, the callback.
const [css, book, done] = arguments;
(async () => {
  const style = document.createElement("style");
  style.textContent = css;
  document.head.appendChild(style);
  const article = document.querySelector("article.bd-article") || document.body;

  // Chapters included by the root page's toctree are nested one level below it; make every
  // chapter's title an h1 and its sections h2, h3 ... so that each chapter is a bookmark of
  // the first level with its sections under it.
  const root = "document-" + book.root;
  let included = false;
  for (const node of Array.from(article.querySelectorAll('span[id^="document-"], h2, h3, h4, h5, h6'))) {
    if (node.tagName === "SPAN") { included = included || node.id !== root; continue; }
    if (!included) continue;
    const level = Number(node.tagName[1]) - 1;
    const heading = document.createElement("h" + level);
    for (const attribute of node.attributes) heading.setAttribute(attribute.name, attribute.value);
    while (node.firstChild) heading.appendChild(node.firstChild);
    node.replaceWith(heading);
  }

  // Solutions folded on the site are printed: open every dropdown and <details> that holds
  // one; a folded code cell (hide-input) stays out, as its outputs are printed anyway.
  for (const hidden of document.querySelectorAll(".toggle-hidden")) hidden.classList.remove("toggle-hidden");
  for (const details of document.querySelectorAll("details")) {
    if (details.classList.contains("hide")) details.remove(); else details.open = true;
  }

  // Links to this very page (cross-references, citations) as fragments: the PDF keeps them
  // as links within the document.
  // Links to other files of the build (a figure's full-size image, a download) would lead
  // nowhere from a PDF: their text or image stays, the link goes.
  const here = location.href.split("#")[0];
  for (const link of Array.from(document.querySelectorAll("a[href]"))) {
    const url = new URL(link.getAttribute("href"), location.href);
    if (url.href.split("#")[0] === here) {
      if (url.hash) link.setAttribute("href", url.hash);
    } else if (url.origin === location.origin) {
      link.replaceWith(...link.childNodes);
    }
  }

  // Title page and table of contents (chapters and their sections).
  const chapters = Array.from(article.querySelectorAll("h1"));
  const title = document.createElement("section");
  title.className = "course-title-page";
  for (const [name, text] of [["title", book.title], ["edition", book.edition], ["author", book.author]]) {
    const line = document.createElement("div");
    line.className = "course-book-" + name;
    line.textContent = text;
    title.appendChild(line);
  }
  const contents = document.createElement("nav");
  contents.className = "course-contents";
  const heading = document.createElement("div");
  heading.className = "course-contents-title";
  heading.style.cssText = "font-size:20pt;font-weight:700;margin-bottom:0.8em";
  heading.textContent = book.contents;
  contents.appendChild(heading);
  const list = document.createElement("ol");
  const text = (node) => Array.from(node.childNodes).filter((child) => !(child.classList && child.classList.contains("headerlink"))).map((child) => child.textContent).join("").trim();
  const anchor = (node) => node.id || (node.closest("section") && node.closest("section").id);
  // One contents line: a list item linking to a heading.
  const entry = (node) => {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = "#" + anchor(node);
    link.textContent = text(node);
    item.appendChild(link);
    return item;
  };
  for (const chapter of chapters) {
    const item = entry(chapter);
    const section = chapter.closest("section");
    const sections = section ? Array.from(section.querySelectorAll(":scope > section > h2")) : [];
    if (sections.length) {
      const sub = document.createElement("ol");
      for (const h2 of sections) sub.appendChild(entry(h2));
      item.appendChild(sub);
    }
    list.appendChild(item);
  }
  contents.appendChild(list);
  article.prepend(title, contents);

  // Maths typeset, fonts and images loaded.
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  await document.fonts.ready;
  await Promise.all(Array.from(document.images).filter((image) => !image.complete).map(
    (image) => new Promise((resolve) => { image.onload = image.onerror = resolve; })));

  // What is wider than the column (a formula, a table) is scaled down to fit, never clipped.
  let scaled = 0;
  for (const wide of document.querySelectorAll('mjx-container[display="true"], article table, article .cell_output pre')) {
    const room = wide.parentElement.clientWidth;
    if (room > 0 && wide.scrollWidth > room + 1) {
      wide.style.zoom = (room / wide.scrollWidth).toFixed(3);
      scaled += 1;
    }
  }
  const tex = (document.body.innerText.match(/\$\$|\\frac|\\\(|\\\[/g) || []).length;
  // The printed headings in order, which the PDF's bookmarks are made from: Chromium titles
  // a bookmark with its heading's text as laid out (a title on two lines lost the space
  // between them), so bookbuild/pdf.py titles them with these.
  const headings = Array.from(document.querySelectorAll("h1, h2, h3, h4, h5, h6"))
    .filter((node) => node.getClientRects().length > 0).map(text);
  done({chapters: chapters.map(text), headings: headings, scaled: scaled, rawTex: tex,
        figures: document.querySelectorAll("figure").length});
})().catch((error) => done({error: String(error && error.stack || error)}));
