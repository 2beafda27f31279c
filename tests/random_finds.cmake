# random_finds.cmake - the random statement finds a planted bug by itself:
# on at least one of seeds 1..5, random operations on guest GUEST must stop
# with exactly violation ID (the scenario declares `expect violation ID`, so
# `rig run` passes only on that outcome).
#   GUEST   the buggy build (buggy-NAME, smp-NAME)
#   ID      the violation
#   SETUP   set-up lines, '|' between them, SEED replaced by the seed
#           (default: one CPU, the pv-chunks 8 the single-CPU bugs need)
#   RANDOM  the random statement's arguments after seed= (default: 20,000
#           operations over 4 pmaps and 512 pages)
if(NOT DEFINED SETUP)
  set(SETUP "pv-chunks 8")
endif()
if(NOT DEFINED RANDOM)
  set(RANDOM "ops=20000 pmaps=4 pages=512")
endif()
set(scn ${CMAKE_CURRENT_BINARY_DIR}/random-finds-${GUEST}.scn)
foreach(seed 1 2 3 4 5)
  string(REPLACE "|" "\n" setup "${SETUP}")
  string(REPLACE "SEED" "${seed}" setup "${setup}")
  file(WRITE ${scn} "guest ${GUEST}\n${setup}\nexpect violation ${ID}\nrandom seed=${seed} ${RANDOM}\n")
  execute_process(COMMAND ${RIG} run ${scn} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(STATUS "seed ${seed}: ${out}")
    return()
  endif()
  string(APPEND tried "seed ${seed}: ${out}${err}\n")
endforeach()
message(FATAL_ERROR "random did not find ${GUEST} (${ID}) on seeds 1..5:\n${tried}")
