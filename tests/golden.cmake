# golden.cmake - run `rig check-syntax BAD` from WORKDIR and compare its
# stderr with the GOLDEN file exactly; the exit status must be 2.
execute_process(COMMAND ${RIG} check-syntax ${BAD}
  WORKING_DIRECTORY ${WORKDIR} RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_VARIABLE out)
file(READ ${WORKDIR}/${GOLDEN} want)
if(NOT rc EQUAL 2)
  message(FATAL_ERROR "rig check-syntax ${BAD} exited ${rc}, not 2")
endif()
if(NOT err STREQUAL want)
  message(FATAL_ERROR "rig check-syntax ${BAD} printed:\n${err}\nbut ${GOLDEN} says:\n${want}")
endif()
