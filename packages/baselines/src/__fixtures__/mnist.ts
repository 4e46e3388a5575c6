/** The public spec fixtures, as the ARD specs have always imported them. */
export { accuracy, buildMlp, linearStudent, mlpStudent, trainTeacher } from '@tempered/core/testing';
export { mnistTiny } from '@tempered/datasets/testing';
