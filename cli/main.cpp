// modelprint command line: placeholder entry until subcommands land.
#include <cstdio>
int main() { std::puts("modelprint"); return 0; }
