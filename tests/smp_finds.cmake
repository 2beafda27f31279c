# smp_finds.cmake - random on several CPUs, under a random schedule, finds the
# planted SMP bug BUG by itself: on at least one of seeds 1..5, 3,000 random
# operations on three CPUs with guest smp-BUG must stop with exactly
# violation ID (the scenario declares `expect violation ID`, so `rig run`
# passes only on that outcome).
set(scn ${CMAKE_CURRENT_BINARY_DIR}/smp-finds-${BUG}.scn)
foreach(seed 1 2 3 4 5)
  file(WRITE ${scn} "guest smp-${BUG}\ncpus 3\nschedule random seed=${seed}\nexpect violation ${ID}\n"
    "random seed=${seed} ops=3000 pmaps=3 pages=16\n")
  execute_process(COMMAND ${RIG} run ${scn} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(STATUS "seed ${seed}: ${out}")
    return()
  endif()
  string(APPEND tried "seed ${seed}: ${out}${err}\n")
endforeach()
message(FATAL_ERROR "random on three CPUs did not find smp-${BUG} (${ID}) on seeds 1..5:\n${tried}")
