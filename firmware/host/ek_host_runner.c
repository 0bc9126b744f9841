/* The model library built for the host, as a reference for the firmware's outputs ("the same
 * library, another compiler"). `host_runner N`: reads N records of all input bytes (input 0
 * first) from stdin, writes N records of all output bytes to stdout. `host_runner --info`: prints
 * the input/output sizes and the arena size, one "key value..." line each. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "ek_model.h"

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--info") == 0) {
        printf("model %s\ninputs", EK_MODEL_NAME);
        for (int i = 0; i < EK_MODEL_NUM_INPUTS; i++)
            printf(" %lu", (unsigned long)ek_model_input_bytes(i));
        printf("\noutputs");
        for (int i = 0; i < EK_MODEL_NUM_OUTPUTS; i++)
            printf(" %lu", (unsigned long)ek_model_output_bytes(i));
        printf("\narena %lu\n", (unsigned long)EK_MODEL_ARENA_BYTES);
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: %s N | --info\n", argv[0]);
        return 2;
    }
    long n = strtol(argv[1], NULL, 10);
    for (long k = 0; k < n; k++) {
        for (int i = 0; i < EK_MODEL_NUM_INPUTS; i++) {
            size_t want = ek_model_input_bytes(i);
            if (fread(ek_model_input(i), 1, want, stdin) != want) {
                fprintf(stderr, "input %d of record %ld is short\n", i, k);
                return 3;
            }
        }
        int rc = ek_model_invoke();
        if (rc != 0) {
            fprintf(stderr, "invoke returned %d on record %ld\n", rc, k);
            return 4;
        }
        for (int i = 0; i < EK_MODEL_NUM_OUTPUTS; i++)
            fwrite(ek_model_output(i), 1, ek_model_output_bytes(i), stdout);
    }
    return fflush(stdout) == 0 ? 0 : 5;
}
