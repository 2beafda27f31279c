# smp_replay.cmake - a failing interleaving replays exactly: FILE fails under
# its random schedule; `--save-schedule` writes the switches; the same file
# with `schedule replay` of them fails identically (the same report, byte for
# byte, but the file's name), and twice the same run is the same run.
get_filename_component(name ${FILE} NAME_WE)
set(sched ${CMAKE_CURRENT_BINARY_DIR}/${name}.schedule)
set(copy ${CMAKE_CURRENT_BINARY_DIR}/${name}-replay.scn)
execute_process(COMMAND ${RIG} run --stable --save-schedule ${sched} ${FILE} WORKING_DIRECTORY ${WORKDIR}
  RESULT_VARIABLE rc1 OUTPUT_VARIABLE first ERROR_VARIABLE err1)
execute_process(COMMAND ${RIG} run --stable ${FILE} WORKING_DIRECTORY ${WORKDIR}
  RESULT_VARIABLE rc2 OUTPUT_VARIABLE again ERROR_VARIABLE err2)
if(NOT rc1 EQUAL 1 OR NOT first MATCHES "violation ${ID}: ")
  message(FATAL_ERROR "${FILE} should fail with ${ID} (exit 1), exited ${rc1}:\n${first}${err1}")
endif()
if(NOT first STREQUAL again)
  message(FATAL_ERROR "two runs of ${FILE} differ:\n${first}\n---\n${again}")
endif()
file(READ ${sched} switches)
if(NOT switches MATCHES "\ncpu[0-9]@[0-9]+ -> cpu[0-9]\t# line [0-9]+, ")
  message(FATAL_ERROR "${sched} lists no switch:\n${switches}")
endif()
file(READ ${WORKDIR}/${FILE} text)
string(REGEX REPLACE "schedule random seed=[0-9]+" "schedule replay ${name}.schedule" text "${text}")
file(WRITE ${copy} "${text}")
execute_process(COMMAND ${RIG} run --stable ${copy} RESULT_VARIABLE rc3 OUTPUT_VARIABLE replayed ERROR_VARIABLE err3)
string(REPLACE "${copy}" "${FILE}" replayed "${replayed}")
if(NOT rc3 EQUAL rc1 OR NOT replayed STREQUAL first)
  message(FATAL_ERROR "the replay differs (exit ${rc3}):\n${first}\n---\n${replayed}${err3}")
endif()
