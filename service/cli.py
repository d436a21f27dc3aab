"""The `citeqa` command: models fetch, ingest, ask, search, serve, documents."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.config import Settings

log = logging.getLogger("citeqa")

# The project's modules are imported inside the functions that use them, not here: this module
# is the server's __main__, and every child that multiprocessing starts from the server (each
# upload's parser in ingest.sandbox, each uvicorn worker) imports __main__ again first. With
# the settings and their LLM dependencies imported here, that cost 1.6 s per upload.


def main(argv: list[str] | None = None) -> int:
    from index.builder import IndexSettingsChangedError
    from index.embedder import ModelNotFoundError
    from index.model_fetch import ModelFetchError
    from index.store import IndexCorruptError, IndexNotFoundError
    from ingest.loaders import LoaderError
    from service.api.state import IncompatibleIndexError
    from service.config import Settings

    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings()
    try:
        return args.run(args, settings)
    except (ModelNotFoundError, ModelFetchError, IndexNotFoundError, IndexCorruptError, LoaderError, IncompatibleIndexError,
            IndexSettingsChangedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; the index is unchanged", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log progress")
    parser = argparse.ArgumentParser(prog="citeqa", description="Cited question answering over your documents.", parents=[common])
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    _add = sub.add_parser
    sub.add_parser = lambda *a, **kw: _add(*a, parents=[common], **kw)  # -v after any subcommand too

    models = sub.add_parser("models", help="manage the models").add_subparsers(required=True, metavar="ACTION")
    fetch = models.add_parser("fetch", help="download and verify the default embedding model (and, with --llm, the local LLM)")
    fetch.add_argument("--force", action="store_true", help="fetch again even if a verified copy exists")
    fetch.add_argument("--llm", action="store_true", help="also the bundled generation model (1.1 GB GGUF) for --llm local")
    fetch.set_defaults(run=_cmd_fetch)

    llm = sub.add_parser("llm", help="the bundled local LLM").add_subparsers(required=True, metavar="ACTION")
    llm_serve = llm.add_parser("serve", help="serve the bundled model as an OpenAI-compatible API (llama.cpp)")
    llm_serve.add_argument("--host", default="127.0.0.1")
    llm_serve.add_argument("--port", type=int, help="default CITEQA_LOCAL_LLM_PORT, or 8081 when that is 0")
    llm_serve.set_defaults(run=_cmd_llm_serve)

    ingest = sub.add_parser("ingest", help="build or update the index from the corpus folder")
    ingest.add_argument("--corpus", type=Path, help="folder of documents (default CITEQA_CORPUS_DIR or ./corpus)")
    ingest.add_argument("--rebuild", action="store_true", help="ignore the current index and build a new one")
    ingest.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="progress: a bar on a terminal, a line every 15 s otherwise (default); --no-progress: none")
    ingest.set_defaults(run=_cmd_ingest)

    ask = sub.add_parser("ask", help="answer a question with cited passages")
    ask.add_argument("question")
    ask.add_argument("--top-k", type=int, default=5, choices=range(1, 21), metavar="1..20")
    ask.add_argument("--history", type=Path, help="JSON file with earlier turns: [{\"role\": \"user\", \"content\": ...}]")
    ask.add_argument("--json", action="store_true", help="print the API's JSON reply")
    ask.add_argument("--mode", choices=["extractive", "generative", "auto"], help="default CITEQA_ANSWER_MODE")
    ask.set_defaults(run=_cmd_ask)

    search = sub.add_parser("search", help="ranked passages for a query")
    search.add_argument("query")
    search.add_argument("--top-k", type=int, default=10, choices=range(1, 51), metavar="1..50")
    search.add_argument("--json", action="store_true", help="print the API's JSON reply")
    search.set_defaults(run=_cmd_search)

    serve = sub.add_parser("serve", help="serve the HTTP API with uvicorn")
    serve.add_argument("--host", help="default CITEQA_HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, help="default CITEQA_PORT or 8000")
    serve.add_argument("--workers", type=int, help="server processes, each with its own model (default CITEQA_WORKERS or 1)")
    serve.add_argument("--llm", choices=["local"],
                       help="start the bundled LLM (`citeqa models fetch --llm`) and answer generatively by default")
    serve.set_defaults(run=_cmd_serve)

    evaluate = sub.add_parser("eval", help="run a question set and report retrieval, citation, answer and refusal metrics")
    evaluate.add_argument("--set", dest="sets", type=Path, action="append", required=True, help="a .jsonl question set (repeatable)")
    evaluate.add_argument("--url", help="evaluate a running server (http://host:port) instead of the local index")
    evaluate.add_argument("--top-k", type=int, default=5, choices=range(1, 21), metavar="1..20")
    evaluate.add_argument("--report", type=Path, help="write JSON, Markdown and PNG charts into this folder")
    evaluate.add_argument("--compare", action="store_true",
                          help="also run llama-index's default pipeline, BM25, dense and a 0.5/0.5 ensemble on the same set")
    evaluate.add_argument("--no-progress", action="store_true")
    evaluate.set_defaults(run=_cmd_eval)

    documents = sub.add_parser("documents", help="list the indexed documents").add_subparsers(required=True, metavar="ACTION")
    listing = documents.add_parser("list", help="the documents in the index")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=_cmd_documents_list)
    adding = documents.add_parser("add", help="add or replace documents (kept across `citeqa ingest`)")
    adding.add_argument("paths", type=Path, nargs="+", metavar="FILE")
    adding.add_argument("--title", help="title (only with one file)")
    adding.add_argument("--doc-id", help="document id (only with one file)")
    adding.set_defaults(run=_cmd_documents_add)
    removing = documents.add_parser("remove", help="remove documents from every index")
    removing.add_argument("doc_ids", nargs="+", metavar="DOC_ID")
    removing.set_defaults(run=_cmd_documents_remove)
    return parser


def _cmd_fetch(args: argparse.Namespace, settings: Settings) -> int:
    from index.model_fetch import fetch_default_model
    from service.llm.fetch import fetch_local_llm

    logging.getLogger("index.model_fetch").setLevel(logging.INFO)
    fetchers = [("embedding model", fetch_default_model)] + ([("local LLM", fetch_local_llm)] if args.llm else [])
    for name, fetch in fetchers:
        started = time.perf_counter()
        result = fetch(settings.model_dir, force=args.force, progress="auto")
        if result.fetched:
            print(f"fetched and verified the {name} in {time.perf_counter() - started:.0f} s: {result.path}")
        else:
            print(f"the {name} is already present and verified: {result.path} (nothing to do)")
    return 0


def _local_llm_params(settings: Settings, host: str = "127.0.0.1", port: int | None = None):
    from index.model_fetch import ModelFetchError
    from service.llm.fetch import is_verified, local_llm_path
    from service.llm.local_server import LocalLLMParams

    path = local_llm_path(settings.model_dir)
    if not is_verified(path):
        raise ModelFetchError(f"the local LLM is not at {path}; run `citeqa models fetch --llm` first")
    return LocalLLMParams(path, host=host, port=settings.local_llm_port if port is None else port,
                          threads=settings.local_llm_threads, alias=settings.llm_model)


def _cmd_llm_serve(args: argparse.Namespace, settings: Settings) -> int:
    from service.llm.local_server import run_local_server

    run_local_server(_local_llm_params(settings, args.host, args.port or settings.local_llm_port or 8081))
    return 0


def _embedder(settings: Settings):
    return settings.embedder()


def _cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from service.indexing import ingest_corpus

    if args.corpus:
        settings = settings.model_copy(update={"corpus_dir": args.corpus})
    started = time.perf_counter()
    embedder = _embedder(settings)
    progress = "auto" if args.progress is None else "bar" if args.progress else "off"
    data, report = ingest_corpus(settings, embedder, rebuild=args.rebuild, progress=progress)
    took = time.perf_counter() - started
    summary = (f"{len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
               f"{len(report.removed)} removed; {report.embedded_chunks} passages and "
               f"{report.embedded_sentences} sentences ({embedder.encoded_texts} texts embedded, "
               f"{embedder.cached_texts} from the embedding cache) in {took:.1f} s")
    if report.changed or args.rebuild:
        print(f"index {data.manifest.version} at {settings.index_dir}: {summary}")
    else:
        print(f"index {data.manifest.version} at {settings.index_dir} is up to date ({summary})")
    print(f"{len(data.documents)} documents, {len(data.chunks)} passages")
    return 0


def _load(settings: Settings):
    from index.dense import set_search_threads
    from index.store import load_index
    from service.qa.pipeline import QAPipeline

    from service.api.state import check_compatible

    index = load_index(settings.index_dir)  # first: a missing index needs no model load to report
    set_search_threads(settings.faiss_threads)
    embedder = _embedder(settings)
    check_compatible(index, embedder)
    return QAPipeline(embedder, settings.pipeline_params(), settings.writer()), index


def _cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from service.schemas import AskRequest

    history = json.loads(args.history.read_text(encoding="utf-8")) if args.history else []
    request = AskRequest.model_validate({"question": args.question, "top_k": args.top_k, "history": history, "mode": args.mode})
    pipeline, index = _load(settings)
    reply = pipeline.ask(index, request.question, [(t.role, t.content) for t in request.history], request.top_k, request.mode)
    if args.json:
        print(reply.model_dump_json(indent=2))
        return 0
    print(reply.answer)
    if reply.citations:
        print()
        print("Sources:" if reply.answerable else "Nearest passages:")
        for c in reply.citations:
            print(f"[{c.n}] {c.title} ({c.source}, characters {c.start}-{c.end})")
            print(_indent(c.text))
    return 0


def _cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    pipeline, index = _load(settings)
    reply = pipeline.search(index, args.query, args.top_k)
    if args.json:
        print(reply.model_dump_json(indent=2))
        return 0
    for rank, p in enumerate(reply.results, 1):
        print(f"{rank}. {p.score:.3f}  {p.title} ({p.source}, characters {p.start}-{p.end})")
        print(_indent(p.text))
    return 0


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    workers = args.workers or settings.workers
    # The ready line names this address; workers read theirs from the environment.
    settings = settings.model_copy(update={"host": host, "port": port})
    os.environ["CITEQA_HOST"], os.environ["CITEQA_PORT"] = host, str(port)
    logging.getLogger().setLevel(logging.INFO)
    if args.llm == "local":
        from service.llm.local_server import start_local_process

        llm = start_local_process(_local_llm_params(settings))
        # Workers build their settings from the environment: the LLM's address goes there too.
        os.environ["CITEQA_LLM_BASE_URL"] = llm.base_url
        os.environ.setdefault("CITEQA_ANSWER_MODE", "auto")
        settings = settings.model_copy(update={"llm_base_url": llm.base_url,
                                               "answer_mode": os.environ["CITEQA_ANSWER_MODE"]})
        try:
            return _serve(settings, host, port, workers)
        finally:
            llm.stop()
    return _serve(settings, host, port, workers)


def _serve(settings: Settings, host: str, port: int, workers: int) -> int:
    from service.api.server import serve, uvicorn_config
    from service.api.app import create_app

    if workers > 1:
        # Each worker process builds its app from the environment (same settings) and loads
        # its own model and index; they share the port and the index folder.
        config = uvicorn_config("service.api.app:create_app", settings, host=host, port=port, factory=True, workers=workers)
    else:
        config = uvicorn_config(create_app(settings), settings, host=host, port=port)
    serve(config)
    return 0


def _cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from evals.questions import load_set
    from evals.report import markdown, write_report
    from evals.runner import run_questions
    from evals.targets import HttpTarget, LocalTarget

    questions = [q for path in args.sets for q in load_set(path)]
    names = ", ".join(p.name for p in args.sets)
    if args.url and args.compare:
        print("error: --compare runs in-process; it cannot be combined with --url", file=sys.stderr)
        return 2
    if args.url:
        target = HttpTarget(args.url)
        config: dict = {"target": args.url}
    else:
        pipeline, index = _load(settings)
        target = LocalTarget(pipeline, index)
        config = {"target": "in-process", "index_version": index.manifest.version, "model": index.manifest.model_id,
                  "documents": len(index.documents), "chunks": len(index.chunks),
                  "settings": json.loads(settings.model_dump_json())}
    config |= {"sets": [str(p) for p in args.sets], "top_k": args.top_k}

    if args.compare:
        from evals.compare import comparison_markdown, configurations, run_comparison, write_comparison

        runs = run_comparison(questions, configurations(pipeline, index), args.top_k, not args.no_progress)
        title = f"citeqa vs baselines on {names}"
        print(comparison_markdown(runs, title, config))
        if args.report:
            write_comparison(args.report, runs, title, config, settings.min_sentence_cosine)
            print(f"report written to {args.report}/ (compare.md, compare.json, citeqa.md, *.png)", file=sys.stderr)
        return 0

    results = run_questions(questions, target, top_k=args.top_k, progress=not args.no_progress)
    title = f"citeqa evaluation: {names} against {target.name}"
    print(markdown(results, title, config))
    if args.report:
        write_report(args.report, results, title, config, settings.min_sentence_cosine)
        print(f"report written to {args.report}/ (report.md, report.json, *.png)", file=sys.stderr)
    return 0


def _cmd_documents_list(args: argparse.Namespace, settings: Settings) -> int:
    from index.store import load_index

    from service.schemas import document_info

    index = load_index(settings.index_dir)
    docs = [document_info(d).model_dump() for d in index.documents.values()]
    if args.json:
        print(json.dumps({"documents": docs}, ensure_ascii=False, indent=2))
    else:
        for d in docs:
            print(f"{d['doc_id']}\t{d['chunks']} passages\t{d['title']}\t{d['source']}")
    return 0


def _cmd_documents_add(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.loaders import load_file
    from ingest.schema import is_valid_doc_id
    from service.indexing import add_document

    if len(args.paths) > 1 and (args.title or args.doc_id):
        print("error: --title and --doc-id need exactly one file", file=sys.stderr)
        return 2
    if args.doc_id and not is_valid_doc_id(args.doc_id):
        print(f"error: --doc-id {args.doc_id!r}: use letters, digits, '_', and '.' or '-' after the first (at most 120)",
              file=sys.stderr)
        return 2
    docs = [load_file(p, title=args.title, doc_id=args.doc_id, source=p.name) for p in args.paths]
    embedder = _embedder(settings)
    for doc in docs:
        result = add_document(settings, embedder, doc)
        report, data = result.report, result.index
        status = "added" if report.added else "updated" if report.updated else "unchanged"
        replaced = f", replaced sha256 {result.replaced.sha256[:12]}" if result.replaced else ""
        print(f"{status}: {doc.doc_id} ({data.documents[doc.doc_id].chunks} passages{replaced}), index {data.manifest.version}")
    return 0


def _cmd_documents_remove(args: argparse.Namespace, settings: Settings) -> int:
    from index.store import load_index
    from service.indexing import remove_document

    known = load_index(settings.index_dir).documents
    unknown = [d for d in args.doc_ids if d not in known]
    if unknown:
        print(f"error: no such documents: {', '.join(unknown)}", file=sys.stderr)
        return 2
    embedder = _embedder(settings)  # not loaded: removing embeds nothing
    for doc_id in args.doc_ids:
        data = remove_document(settings, embedder, doc_id).index
        print(f"removed: {doc_id}, index {data.manifest.version}")
    return 0


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


if __name__ == "__main__":
    sys.exit(main())
