# random_finds.cmake - the random statement finds the planted bug BUG by
# itself: on at least one of seeds 1..5, 20,000 random operations on the
# guest buggy-BUG must stop with exactly violation ID (the scenario declares
# `expect violation ID`, so `rig run` passes only on that outcome).
set(scn ${CMAKE_CURRENT_BINARY_DIR}/random-finds-${BUG}.scn)
foreach(seed 1 2 3 4 5)
  file(WRITE ${scn} "guest buggy-${BUG}\npv-chunks 8\nexpect violation ${ID}\n"
    "random seed=${seed} ops=20000 pmaps=4 pages=512\n")
  execute_process(COMMAND ${RIG} run ${scn} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(STATUS "seed ${seed}: ${out}")
    return()
  endif()
  string(APPEND tried "seed ${seed}: ${out}${err}\n")
endforeach()
message(FATAL_ERROR "random did not find buggy-${BUG} (${ID}) on seeds 1..5:\n${tried}")
