# contract_fixtures.cmake - every fixture on another guest family: the
# files without a `guest` statement run on GUEST (rig run --guest); each
# must pass, except those requiring a feature GUEST does not declare,
# which are SKIP with that reason. Nothing fails, nothing errs.
execute_process(COMMAND ${RIG} run --stable --guest ${GUEST} fixtures/ WORKING_DIRECTORY ${WORKDIR}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "\n[1-9][0-9]* passed, 0 failed(, [0-9]+ skipped)?\n$")
  message(FATAL_ERROR "rig run --guest ${GUEST} fixtures/ exited ${rc}:\n${out}\n${err}")
endif()
string(REGEX MATCHALL "SKIP [^\n]*" skips "${out}")
foreach(line ${skips})
  if(NOT line MATCHES "^SKIP fixtures/[^:]+\\.scn: guest ${GUEST} does not declare [a-z.-]+ \\(requires [a-z. -]+, line [0-9]+\\)$")
    message(FATAL_ERROR "a skip without its reason: ${line}")
  endif()
endforeach()
if(EXPECT_SKIPS AND NOT skips)
  message(FATAL_ERROR "no fixture was skipped on ${GUEST}, though it lacks reference policies:\n${out}")
endif()
