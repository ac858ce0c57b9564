{
  "targets": [
    {
      "target_name": "capbench",
      # Every C and C++ file under src/native, one folder per kernel mechanism: a file compiles to
      # nothing where its headers are missing (af-xdp/af_xdp.h), and a binding registers itself
      # (common/addon.h), so a new file needs no line here.
      "sources": ["<!@(find src/native -name '*.c' -o -name '*.cc' | LC_ALL=C sort)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "src/native/common"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "cflags_c": ["-std=gnu11"],
      "cflags_cc": ["-O2", "-Wall", "-Wextra", "-fexceptions"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["-ldl", "-lpthread"],
      # What a file needs linked where its headers are: the same test as its __has_include.
      "conditions": [
        ["<!(test -f /usr/include/xdp/xsk.h && echo 1 || echo 0)==1", { "libraries": ["-lxdp", "-lbpf"] }],
        # dpdk: linked in statically, and only the drivers it offers (whole archives, since a
        # driver registers itself from a constructor nothing calls by name). DPDK's shared build
        # would dlopen all of its ~130 PMD plugins at EAL start instead.
        ["<!(pkg-config --exists libdpdk && echo 1 || echo 0)==1", {
          "include_dirs": ["<!@(pkg-config --cflags-only-I libdpdk | sed 's/-I//g')"],
          "libraries": [
            "-Wl,--whole-archive",
            "-l:librte_bus_vdev.a", "-l:librte_net_af_packet.a", "-l:librte_net_af_xdp.a",
            "-l:librte_mempool_ring.a", "-l:librte_bus_pci.a", "-l:librte_net_e1000.a",
            "-Wl,--no-whole-archive",
            "-l:librte_ethdev.a", "-l:librte_mbuf.a", "-l:librte_mempool.a", "-l:librte_ring.a",
            "-l:librte_net.a", "-l:librte_meter.a", "-l:librte_pci.a", "-l:librte_eal.a",
            "-l:librte_kvargs.a", "-l:librte_telemetry.a", "-lnuma", "-lbsd", "-lxdp", "-lbpf"
          ]
        }]
      ]
    }
  ]
}
