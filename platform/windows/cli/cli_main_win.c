/*
 * cli_main_win.c — the entry point of pagedb.exe (scripts/build-windows.sh compiles
 * cli/main.c with -Dmain=pagedb_cli_main and links this file): what a Windows process needs
 * before the portable CLI runs.
 *
 *  1. Arguments: the C runtime's argv is in the ANSI code page, which cannot hold most of
 *     Unicode (a key like "ключ" arrives as "????"). The UTF-16 command line
 *     (GetCommandLineW + CommandLineToArgvW) is converted to UTF-8 instead, the encoding
 *     the CLI and the database use everywhere.
 *  2. Standard streams in binary mode (_setmode _O_BINARY): text mode would turn "\n" into
 *     "\r\n" on output and drop "\r" / stop at 0x1a on input, changing values that
 *     `pagedb get` prints and `pagedb put`/`import` read; output is then byte-identical to
 *     the Linux CLI's.
 * Exit status, output and errors are the portable CLI's (cli/main.c).
 */
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <shellapi.h>

#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>

int pagedb_cli_main(int argc, char **argv);

int main(void)
{
    _setmode(_fileno(stdin), _O_BINARY);
    _setmode(_fileno(stdout), _O_BINARY);
    _setmode(_fileno(stderr), _O_BINARY);
    int wargc = 0;
    wchar_t **wargv = CommandLineToArgvW(GetCommandLineW(), &wargc);
    if (!wargv) {
        fputs("pagedb: cannot read the command line\n", stderr);
        return 1;
    }
    char **argv = calloc((size_t)wargc + 1, sizeof *argv);
    if (!argv) {
        fputs("pagedb: out of memory\n", stderr);
        return 1;
    }
    for (int i = 0; i < wargc; i++) {
        int n = WideCharToMultiByte(CP_UTF8, 0, wargv[i], -1, NULL, 0, NULL, NULL);
        argv[i] = n > 0 ? malloc((size_t)n) : NULL;
        if (!argv[i] || WideCharToMultiByte(CP_UTF8, 0, wargv[i], -1, argv[i], n, NULL, NULL) != n) {
            fputs("pagedb: cannot convert the command line to UTF-8\n", stderr);
            return 1;
        }
    }
    LocalFree(wargv);
    return pagedb_cli_main(wargc, argv); /* argv lives until the process exits */
}
