# cli_expect.cmake - run one rig command line and check what it did.
#   RIG      the rig
#   ARGS     its arguments, separated by '|' (a ';' would split the -D value)
#   WORKDIR  where it runs
#   RC       the exit status it must have
#   OUT, ERR regular expressions its stdout and stderr must match ("^$": empty;
#            "" or unset: anything)
#   FILE, FILE_MATCH  optional: FILE (written by the command; absolute, or
#            relative to WORKDIR) must exist afterwards and match every
#            regular expression in FILE_MATCH, separated by "@@"
# No ';' in any value: CMake would split it.
string(REPLACE "|" ";" args "${ARGS}")
if(FILE)
  get_filename_component(FILE ${FILE} ABSOLUTE BASE_DIR ${WORKDIR})
  file(REMOVE ${FILE})
endif()
execute_process(COMMAND ${RIG} ${args} WORKING_DIRECTORY ${WORKDIR}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(what "rig ${args}")
if(NOT rc STREQUAL "${RC}")
  message(FATAL_ERROR "${what} exited ${rc}, not ${RC}\nstdout:\n${out}\nstderr:\n${err}")
endif()
if(NOT "${OUT}" STREQUAL "" AND NOT out MATCHES "${OUT}")
  message(FATAL_ERROR "${what}: stdout does not match\n  ${OUT}\nstdout:\n${out}")
endif()
if(NOT "${ERR}" STREQUAL "" AND NOT err MATCHES "${ERR}")
  message(FATAL_ERROR "${what}: stderr does not match\n  ${ERR}\nstderr:\n${err}")
endif()
if(FILE)
  if(NOT EXISTS ${FILE})
    message(FATAL_ERROR "${what} wrote no ${FILE}")
  endif()
  file(READ ${FILE} text)
  string(REPLACE "@@" ";" patterns "${FILE_MATCH}")
  foreach(p ${patterns})
    if(NOT text MATCHES "${p}")
      message(FATAL_ERROR "${what}: ${FILE} does not match\n  ${p}\n${FILE}:\n${text}")
    endif()
  endforeach()
endif()
