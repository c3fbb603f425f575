# CMake toolchain for the big-endian s390x target (scripts/test-s390x.sh): Debian's
# gcc-s390x-linux-gnu cross compiler, libsodium and jansson from Debian's s390x multiarch
# packages (libsodium-dev:s390x, libjansson-dev:s390x, which bring libc6:s390x: the s390x
# loader /lib/ld64.so.1 and its libraries, so qemu-s390x (qemu-user) runs the dynamically
# linked programs directly, with no -L sysroot).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR s390x)
set(CMAKE_C_COMPILER s390x-linux-gnu-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/s390x-linux-gnu /usr/lib/s390x-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-s390x)
# pkg-config answers for s390x: the multiarch .pc files only
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/s390x-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
