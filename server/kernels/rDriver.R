# AGB Local R kernel driver: a Jupyter-like REPL in one long-lived R process per session.
#
# Started as `Rscript --no-save --no-restore -e 'eval(parse(text = Sys.getenv("AGB_R_DRIVER")))'`
# with this source in AGB_R_DRIVER (nothing to write into the sandbox, nothing to bind).
# Protocol:
#   requests on fd 0: a header line "<count> <byteLength>\n" followed by exactly byteLength
#                     bytes of UTF-8 code.
#   events   on fd 3: JSON lines, as pythonDriver.py: {"type":"result","data":{mime:value},
#                     "isMainResult"} and {"type":"end","error":{name,value,traceback}|null}.
# User output (cat, print, message, warnings) goes to fds 1 and 2 as R writes it (R flushes every
# console write), so it streams; the driver flushes both before each end event.
# Every top-level expression is evaluated in the global environment; a visible value is printed
# as the R console would, except the value of the cell's last expression, which becomes the main
# result (text/plain: what print() shows). The driver's own state lives in a private environment.
local({
  Sys.unsetenv("AGB_R_DRIVER")
  options(warn = 1) # warnings go to stderr when they happen, not after the cell

  # fd 3 is a pipe (sandbox agent) or a socket (plain spawn). Reopen a pipe in append mode
  # (never truncating: fd 3 is checked to be a pipe first); pass a socket through `cat`.
  events <- if (system("test -p /proc/self/fd/3", ignore.stdout = TRUE, ignore.stderr = TRUE) == 0) {
    file("/proc/self/fd/3", open = "ab", raw = TRUE)
  } else {
    pipe("exec cat >&3", open = "wb")
  }

  json_str <- function(s) {
    s <- enc2utf8(paste(s, collapse = "\n"))
    s <- gsub("\\", "\\\\", s, fixed = TRUE)
    s <- gsub("\"", "\\\"", s, fixed = TRUE)
    s <- gsub("\n", "\\n", s, fixed = TRUE)
    s <- gsub("\r", "\\r", s, fixed = TRUE)
    s <- gsub("\t", "\\t", s, fixed = TRUE)
    for (code in c(1:8, 11:12, 14:31)) s <- gsub(intToUtf8(code), sprintf("\\u%04x", code), s, fixed = TRUE)
    paste0("\"", s, "\"")
  }
  # The host stops a kernel whose event line passes 16 MiB (user code can write to the pipe too):
  # long text is cut here, under the host's default maxOutputBytes (1 MiB) so the note shows.
  cut_text <- function(s) {
    n <- nchar(s, type = "chars", allowNA = TRUE)
    if (is.na(n) || n <= 1000000L) return(s)
    paste0(substr(s, 1L, 1000000L), "\u2026[truncated ", n - 1000000L, " characters]")
  }
  emit <- function(line) {
    writeBin(charToRaw(enc2utf8(paste0(line, "\n"))), events)
    flush(events)
  }
  error_json <- function(name, value, traceback) {
    sprintf("{\"name\":%s,\"value\":%s,\"traceback\":%s}", json_str(name), json_str(cut_text(value)), json_str(cut_text(traceback)))
  }

  # The driver's eval() is the "call" of a condition raised at the top level of a cell: no call.
  user_call <- function(call) if (is.null(call) || identical(call, DRIVER_EVAL)) NULL else call
  DRIVER_EVAL <- quote(eval(exprs[[i]], envir = globalenv()))

  # "Error in f(x) : boom" (or "Error: boom"), as R itself reports an uncaught error.
  describe <- function(e, what = "Error") {
    call <- user_call(conditionCall(e))
    message <- conditionMessage(e)
    if (is.null(call)) return(paste0(what, ": ", message))
    head <- paste0(what, " in ", paste(deparse(call, nlines = 1L), collapse = ""), " : ")
    paste0(head, if (nchar(head) + nchar(message) > 77) "\n  " else "", message)
  }

  run_cell <- function(code) {
    exprs <- tryCatch(parse(text = code, keep.source = FALSE), error = function(e) e)
    if (inherits(exprs, "error")) {
      message <- sub("^<text>:", "", conditionMessage(exprs))
      return(list(name = "ParseError", value = strsplit(message, "\n", fixed = TRUE)[[1]][1], traceback = paste0("Error: ", message, "\n")))
    }
    n <- length(exprs)
    calls <- NULL
    failure <- tryCatch(
      withCallingHandlers({
        for (i in seq_len(n)) {
          res <- withVisible(eval(exprs[[i]], envir = globalenv()))
          if (!res$visible) next
          if (i < n) {
            if (isS4(res$value)) methods::show(res$value) else print(res$value)
          } else {
            text <- paste(utils::capture.output(if (isS4(res$value)) methods::show(res$value) else print(res$value)), collapse = "\n")
            emit(sprintf("{\"type\":\"result\",\"data\":{\"text/plain\":%s},\"isMainResult\":true}", json_str(cut_text(text))))
          }
        }
        NULL
      }, error = function(e) {
        # The user's calls when the error happened: after the driver's eval(), before stop().
        stack <- sys.calls()
        at <- which(vapply(stack, identical, TRUE, DRIVER_EVAL))
        user <- if (length(at)) stack[-seq_len(at[length(at)])] else list()
        names <- vapply(user, function(cl) paste(deparse(cl[[1]], nlines = 1L), collapse = ""), "")
        names <- names[-length(names)] # this handler
        while (length(names) && names[length(names)] %in% c(".handleSimpleError", "stop", "signalCondition")) names <- names[-length(names)]
        calls <<- names
      }, warning = function(w) {
        cat(describe(w, "Warning"), "\n", sep = "", file = stderr())
        invokeRestart("muffleWarning")
      }),
      error = function(e) e,
      interrupt = function(e) structure(class = c("interrupt", "condition"), list(message = "interrupted", call = NULL))
    )
    if (is.null(failure)) return(NULL)
    if (inherits(failure, "interrupt")) return(list(name = "KeyboardInterrupt", value = "", traceback = "KeyboardInterrupt\n"))
    trace <- describe(failure)
    if (length(calls) > 1) trace <- paste0(trace, "\nCalls: ", paste(calls, collapse = " -> "))
    list(name = class(failure)[1], value = conditionMessage(failure), traceback = paste0(trace, "\n"))
  }

  input <- file("stdin", open = "rb")
  repeat {
    header <- readLines(input, n = 1L, warn = FALSE)
    if (length(header) == 0L) break
    parts <- strsplit(header, " ", fixed = TRUE)[[1]]
    if (length(parts) != 2L) next
    size <- as.integer(parts[2])
    code <- if (size > 0L) rawToChar(readBin(input, "raw", n = size)) else ""
    Encoding(code) <- "UTF-8"
    failure <- tryCatch(run_cell(code), error = function(e) list(name = "KernelError", value = conditionMessage(e), traceback = ""))
    if (!is.null(failure) && nzchar(failure$traceback)) cat(failure$traceback, file = stderr())
    flush(stdout())
    flush(stderr())
    emit(sprintf("{\"type\":\"end\",\"error\":%s}", if (is.null(failure)) "null" else error_json(failure$name, failure$value, failure$traceback)))
  }
})
