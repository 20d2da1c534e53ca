# Read by GNU make through MAKEFILES while ../shared/tools/cubff-oracle builds
# cubff: the reference tree ships without its empty build/ and bin/ folders,
# which its Makefile writes into but never creates.
$(shell mkdir -p build bin)
