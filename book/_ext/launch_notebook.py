"""A chapter's launch notebook that opens clean in Jupyter, Binder and Colab.

myst-nb reads a MyST page as a notebook whose markdown cells are MyST: glue roles, cross-references,
citations, exercise and solution directives, labelled equations. Jupyter shows all of that as text. At
build time this module turns the executed notebook of a page (outputs included) into plain Jupyter
markdown, with Sphinx itself resolving every reference:

- ``{glue:text}`key:.3f``` and ``{glue}`key``` become the glued values, formatted as on the page;
- ``{ref}``, ``{numref}``, ``{eq}``, ``{doc}``, ``{cite}`` become the text the page shows
  ("Fig. 4.2", "(5.3)", "Vaswani et al. (2017)");
- labelled equations get their number (``\\tag{5.3}``), labels become HTML anchors;
- exercises become bold headings with their number, solutions are folded in ``<details>``,
  admonitions become block quotes, a bibliography becomes the list of works the page cites;
- a figure's caption follows its cell as "**Fig. 4.2.** caption"; cells whose input the page hides
  are collapsed (``jupyter.source_hidden``); outputs Jupyter cannot show without the book (saved widget
  views without their state, glue records) are dropped.

MyST syntax is found with myst-parser's own markdown-it parser; only the source text of what it finds
is replaced, so everything else in a cell stays as written.
"""

import copy
import re
from functools import lru_cache

import nbformat
from docutils import nodes
from myst_nb.core.variables import format_plain_text
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.mdit import create_md_parser
from markdown_it.renderer import RendererHTML
from sphinx import addnodes
from sphinx.util import docname_join
from sphinx.util.nodes import split_explicit_title

# The MyST extensions of _config.yml that change what counts as syntax.
MYST_EXTENSIONS = ("amsmath", "dollarmath", "colon_fence", "deflist", "substitution")
# Roles Sphinx resolves as cross-references: role -> (domain, reference type).
XREF_ROLES = {
    "ref": ("std", "ref"),
    "numref": ("std", "numref"),
    "doc": ("std", "doc"),
    "eq": ("math", "eq"),
    "cite": ("cite", "p"),
    "cite:p": ("cite", "p"),
    "cite:t": ("cite", "t"),
    "cite:ps": ("cite", "ps"),
    "cite:ts": ("cite", "ts"),
}
GLUE_ROLES = ("glue", "glue:", "glue:text", "glue:any")
# What Jupyter renders of a glue record or of a widget view whose state is not saved: nothing useful.
UNRENDERABLE_MIME_PREFIXES = ("application/papermill.record/", "application/vnd.jupyter.widget-view+json")
HIDDEN_INPUT_TAGS = {"remove-input", "hide-input", "remove-cell", "hide-cell"}
HIDDEN_OUTPUT_TAGS = {"remove-output", "remove-cell"}
# Directives whose first line (argument) is a title and whose body is the content.
ADMONITIONS = {"note", "tip", "hint", "important", "warning", "caution", "attention", "danger", "error", "seealso"}


@lru_cache(maxsize=1)
def myst_parser():
    """myst-parser's markdown-it parser with the book's extensions."""
    return create_md_parser(MdParserConfig(enable_extensions=set(MYST_EXTENSIONS)), RendererHTML)


def myst_tokens(text):
    """Block and inline tokens of ``text``, flattened (the scan of the launch-notebook test)."""
    flat = []

    def walk(tokens):
        for token in tokens:
            flat.append(token)
            walk(token.children or [])

    walk(myst_parser().parse(text))
    return flat


def role_source(token):
    """The source text of a role token: {name}`content`, with as many backticks as it needs."""
    ticks = "`" * (max((len(run) for run in re.findall("`+", token.content)), default=0) + 1)
    return f"{{{token.meta['name']}}}{ticks}{token.content}{ticks}"


def unresolved_myst(text):
    """The MyST-only syntax left in a markdown ``text``: directives, roles, targets, comments.

    The launch-notebook test scans every markdown cell with this; an empty list means Jupyter shows
    the cell as the book does.
    """
    found = []
    for token in myst_tokens(text):
        if token.type in ("fence", "colon_fence") and token.info.strip().startswith("{"):
            found.append(f"directive {token.info.split()[0]}")
        elif token.type == "myst_role":
            found.append(f"role {role_source(token)}")
        elif token.type in ("myst_target", "myst_line_comment", "myst_block_break", "math_block_label"):
            found.append(f"{token.type} {token.content.strip()[:40]}")
    return found


def split_directive(token):
    """(name, argument, options, body) of a directive token (colon or backtick fence)."""
    name, _, argument = token.info.strip()[1:].partition("}")
    lines = token.content.splitlines()
    options = {}
    if lines and lines[0].strip() == "---":
        end = lines.index("---", 1)
        import yaml

        options = yaml.safe_load("\n".join(lines[1:end])) or {}
        lines = lines[end + 1 :]
    else:
        while lines and re.match(r"^:[\w-]+:", lines[0]):
            key, _, value = lines.pop(0)[1:].partition(":")
            options[key] = value.strip()
    return name, argument.strip(), options, "\n".join(lines).strip("\n")


def quoted(text):
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


class PageMarkdown:
    """Turns the MyST markdown of one page into Jupyter markdown, resolving through Sphinx."""

    def __init__(self, app, pagename, glue_values):
        self.app = app
        self.pagename = pagename
        self.glue_values = glue_values  # {key: glued output} of this page (myst-nb's <page>.glue.json)

    # Cross-references, through the domains that resolve them on the page itself.
    def reference_text(self, role, content):
        domain_name, reference_type = XREF_ROLES[role]
        explicit, title, target = split_explicit_title(content)
        if role == "doc":
            target = docname_join(self.pagename, target)
        elif role in ("ref", "numref"):
            target = target.lower()
        pending = addnodes.pending_xref(
            content, refdomain=domain_name, reftype=reference_type, reftarget=target,
            refexplicit=explicit, refdoc=self.pagename,
        )
        contnode = nodes.inline(title, title)
        domain = self.app.env.get_domain(domain_name)
        resolved = domain.resolve_xref(
            self.app.env, self.pagename, self.app.builder, reference_type, target, pending, contnode
        )
        if resolved is None:
            raise ValueError(f"{self.pagename}: {{{role}}}`{content}` does not resolve")
        return resolved.astext()

    def glue_text(self, role, content):
        key, _, format_spec = content.partition(":")
        if "::" in content:
            raise ValueError(f"{self.pagename}: glue from another page ({content}) is not supported")
        bundle = self.glue_values[key]["data"]
        if "text/markdown" in bundle and role != "glue:text":
            return bundle["text/markdown"]
        return format_plain_text(bundle["text/plain"], format_spec)

    def role(self, token):
        name = token.meta["name"]
        if name in GLUE_ROLES:
            return self.glue_text(name, token.content)
        if name in XREF_ROLES:
            return self.reference_text(name, token.content)
        if name == "math":
            return f"${token.content}$"
        # Any other role keeps its text, without the markup.
        return token.content

    def equation_number(self, label):
        return self.reference_text("eq", label).strip("()")

    def directive(self, token):
        name, argument, options, body = split_directive(token)
        body = self.convert(body)
        if name in ("exercise", "exercise-start"):
            heading = self.reference_text("numref", options["label"]) if "label" in options else "Exercise"
            title = f" ({self.convert(argument)})" if argument else ""
            anchor = f'<a id="{options["label"]}"></a>' if "label" in options else ""
            return f"{anchor}**{heading}**{title}\n\n{body}"
        if name in ("solution", "solution-start"):
            target = self.reference_text("numref", argument) if argument else "the exercise"
            return f"<details>\n<summary>Solution to {target}</summary>\n\n{body}\n\n</details>"
        if name == "admonition" or name in ADMONITIONS:
            title = self.convert(argument) if name == "admonition" else name.capitalize()
            return quoted(f"**{title}**\n\n{body}")
        if name in ("math", "math_block"):
            tag = f"\\tag{{{self.equation_number(options['label'])}}}" if "label" in options else ""
            return f"$$\n{body}\n{tag}\n$$".replace("\n\n$$", "\n$$")
        if name == "bibliography":
            return self.bibliography()
        if name in ("figure", "image"):
            alt = options.get("alt", "")
            caption = f"\n\n{body}" if body else ""
            return f"![{alt}]({argument}){caption}"
        # An unknown directive keeps its content.
        return body

    def bibliography(self):
        """The works this page's bibliography lists, one item each, as the page shows them."""
        import pybtex.plugin

        markdown = pybtex.plugin.find_plugin("pybtex.backends", "markdown")()
        domain = self.app.env.get_domain("cite")
        entries = [
            citation.formatted_entry.text.render(markdown)
            for citation in domain.citations
            if citation.bibliography_key.docname == self.pagename
        ]
        return "\n".join(f"- {entry}" for entry in entries)

    def convert(self, text):
        """``text`` with every MyST construct replaced; plain markdown passes through unchanged."""
        if not text.strip():
            return text
        lines = text.splitlines()
        replaced = {}  # first line of a block -> (line after it, replacement or None)
        for token in myst_parser().parse(text):
            if token.type == "inline" and token.map and any(child.type == "myst_role" for child in token.children):
                # Roles are replaced in the source lines of their block (a paragraph, a table cell...).
                start, end = token.map
                block = "\n".join(lines[start:end])
                for child in token.children:
                    if child.type == "myst_role":
                        block = block.replace(role_source(child), self.role(child), 1)
                lines[start:end] = [block] + [None] * (end - start - 1)
            if token.level != 0 or token.map is None:
                continue
            start, end = token.map
            if token.type in ("fence", "colon_fence") and token.info.strip().startswith("{"):
                replaced[start] = (end, self.directive(token))
            elif token.type == "myst_target":
                replaced[start] = (end, f'<a id="{token.content}"></a>')
            elif token.type in ("myst_line_comment", "myst_block_break"):
                replaced[start] = (end, None)
            elif token.type == "math_block_label":
                body = token.content.strip("\n")
                replaced[start] = (end, f"$$\n{body}\n\\tag{{{self.equation_number(token.info)}}}\n$$")
        kept, line = [], 0
        while line < len(lines):
            if line in replaced:
                end, replacement = replaced[line]
                if replacement is not None:
                    kept.append(replacement)
                line = end
                continue
            if lines[line] is not None:
                kept.append(lines[line])
            line += 1
        return "\n".join(kept)


def figure_caption_cell(page, cell):
    """A markdown cell with the caption a figure cell shows on the page, or None."""
    figure = cell.metadata.get("mystnb", {}).get("figure")
    if not figure or "caption" not in figure:
        return None
    number = page.reference_text("numref", figure["name"]) if "name" in figure else "Figure"
    anchor = f'<a id="{figure["name"]}"></a>' if "name" in figure else ""
    caption = nbformat.v4.new_markdown_cell(f"{anchor}**{number}.** {page.convert(figure['caption'])}")
    caption.id = f"{cell.id}-caption"[:64]
    return caption


def displayable_outputs(outputs):
    """The outputs Jupyter can show without the book's own machinery."""
    kept = []
    for output in outputs:
        if "data" in output:
            data = {
                mime: value
                for mime, value in output["data"].items()
                if not mime.startswith(UNRENDERABLE_MIME_PREFIXES)
            }
            if not data:
                continue
            output = copy.deepcopy(output)
            output["data"] = data
            output.get("metadata", {}).pop("scrapbook", None)
        kept.append(output)
    return kept


def clean_notebook(app, pagename, executed, glue_values):
    """The launch notebook of a MyST page from its executed notebook and its glued values."""
    page = PageMarkdown(app, pagename, glue_values)
    clean = copy.deepcopy(executed)
    cells = []
    for cell in clean.cells:
        if cell.cell_type == "markdown":
            cell.source = page.convert(cell.source)
            if cell.source.strip():
                cells.append(cell)
            continue
        cells.append(cell)
        if cell.cell_type != "code":
            continue
        tags = set(cell.metadata.get("tags", []))
        if tags & HIDDEN_INPUT_TAGS:
            cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
        cell.outputs = [] if tags & HIDDEN_OUTPUT_TAGS else displayable_outputs(cell.outputs)
        caption = figure_caption_cell(page, cell)
        if caption is not None:
            cells.append(caption)
    clean.cells = cells
    # The executed notebook's bookkeeping (myst-nb's source map) means nothing to a reader.
    clean.metadata.pop("source_map", None)
    clean.metadata.pop("mystnb", None)
    return clean
