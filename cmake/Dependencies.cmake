# Finds the Debian-packaged dependencies (installed by scripts/setup).
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(fmt REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(CURL REQUIRED)  # endpoint client (libcurl4-openssl-dev)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)

# BLAS for CPU matrix products (OpenBLAS, pthread build from Debian).
find_library(MP_OPENBLAS NAMES openblas PATHS /usr/lib/x86_64-linux-gnu/openblas-pthread REQUIRED)
find_path(MP_CBLAS_INCLUDE cblas.h PATHS /usr/include/x86_64-linux-gnu/openblas-pthread /usr/include/openblas REQUIRED)
include_directories(SYSTEM ${MP_CBLAS_INCLUDE})
set(MP_BLAS_LIBS ${MP_OPENBLAS})

# FAISS (CPU); Debian's libfaiss needs OpenMP and BLAS at link time.
find_library(MP_FAISS NAMES faiss REQUIRED)
find_package(OpenMP REQUIRED)
set(MP_FAISS_LIBS ${MP_FAISS} OpenMP::OpenMP_CXX ${MP_OPENBLAS})
