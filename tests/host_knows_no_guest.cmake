# host_knows_no_guest.cmake - the rig knows a guest only through its
# descriptor and DWARF: no host source names the bsd7 guest or one of its
# conventions, and none includes a guest header but the hardware names and
# the runtime ABI (guest/common/i386.h, guest/common/rig_abi.h).
file(GLOB srcs ${SRC}/rig/*.c ${SRC}/rig/*.h)
set(words bsd7 mtx_lock mtx_unlock mtx_trylock pm_cr3 md.pv_list VPO_UNMANAGED PGA_DIRTY pc_spare)
foreach(f ${srcs})
  file(READ ${f} text)
  foreach(w ${words})
    string(FIND "${text}" "${w}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "${f} names '${w}', a convention of one guest")
    endif()
  endforeach()
  string(REGEX MATCHALL "#include \"[^\"]*guest/[^\"]*\"" incs "${text}")
  foreach(i ${incs})
    if(NOT i MATCHES "guest/common/(i386|rig_abi)\\.h\"$")
      message(FATAL_ERROR "${f}: ${i}: the host includes only the hardware names and the runtime ABI")
    endif()
  endforeach()
endforeach()
